import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { configureOaas, getAutoSessionManager, sessionScope, shutdown, type OaasConfig } from '../../src/index.js';

/** Shuts the runtime down after each test of the calling file. */
export function shutdownAfterEach(): void {
  afterEach(async () => {
    try {
      await shutdown({ timeoutMs: 2000 });
    } catch {
      // A test that leaves failing commits behind has asserted on them already.
    }
  });
}

/** Configures a fresh runtime on the memory store (or the given store) with quiet logs. */
export async function freshRuntime(config: OaasConfig = {}): Promise<ReturnType<typeof getAutoSessionManager>> {
  await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent', ...config });
  return getAutoSessionManager();
}

/** Resolves after the current macrotask queue drains (lets timers and I/O callbacks run). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A `sqlite:` store spec for a new database file in a fresh temporary folder. */
export function tempSqlite(): string {
  const dir = mkdtempSync(join(tmpdir(), 'oaas-test-'));
  return `sqlite:${join(dir, 'state.db')}`;
}

/**
 * Holds an object in a `sessionScope` of its own until `release()`: the way
 * tests make another context wait for it. Resolves once the object is held.
 */
export async function holdInScope(load: () => Promise<unknown>): Promise<{ release: () => void; done: Promise<void> }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let holding!: () => void;
  const held = new Promise<void>((resolve) => (holding = resolve));
  const done = sessionScope(async () => {
    await load();
    holding();
    await gate;
  });
  await held;
  return { release, done };
}
