import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { CommitError, configureOaas, getAutoSessionManager, sessionScope, shutdown, type OaasConfig } from '../../src/index.js';

let failureExpected = false;

/**
 * Says that the current test leaves changes behind that cannot be committed:
 * the teardown's shutdown must then reject with `CommitError` (and the test
 * fails if it does not). Without it, a failed teardown flush fails the test.
 */
export function expectFailedShutdown(): void {
  failureExpected = true;
}

/**
 * Shuts the runtime down at the end of a test. A flush failure the test did
 * not announce with {@link expectFailedShutdown} fails the test: it means
 * work the test believed done was never persisted.
 */
export async function checkedShutdown(): Promise<void> {
  const expected = failureExpected;
  failureExpected = false;
  let failure: unknown;
  try {
    await shutdown({ timeoutMs: 2000 });
  } catch (error) {
    failure = error;
  }
  if (expected) {
    expect(failure, 'the test announced a failing shutdown, but the flush succeeded').toBeInstanceOf(CommitError);
  } else if (failure !== undefined) {
    throw new Error(`shutdown after the test failed: ${failure instanceof Error ? failure.message : JSON.stringify(failure)} (a test that means to leave failing commits calls expectFailedShutdown())`, { cause: failure });
  }
}

/** Shuts the runtime down after each test of the calling file (see {@link checkedShutdown}). */
export function shutdownAfterEach(): void {
  afterEach(checkedShutdown);
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
