import { afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// tsx as a loader inside the child (`node --import tsx`), not its CLI: the CLI runs the script in a grandchild and,
// when that one does not acknowledge a relayed signal within 30 ms (a busy machine), kills it and exits 143.
const tsxLoader = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;

/** A TypeScript script running in a child Node process (through tsx's loader), in its own process group. */
export class TsChild {
  readonly process: ChildProcess;
  stdout = '';
  stderr = '';
  readonly closed: Promise<[number | null, NodeJS.Signals | null]>;

  constructor(script: string | URL, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    const path = script instanceof URL ? fileURLToPath(script) : script;
    this.process = spawn(process.execPath, ['--import', tsxLoader, path, ...args], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.process.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.closed = once(this.process, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  }

  /** Lines printed so far. */
  get lines(): string[] {
    return this.stdout.split('\n').filter((l) => l !== '');
  }

  /** Waits (bounded) until a printed line satisfies `match`. */
  async waitFor(match: (line: string) => boolean, timeoutMs = 15_000): Promise<void> {
    const started = Date.now();
    while (!this.lines.some(match)) {
      if (this.process.exitCode !== null) throw new Error(`child exited early (${this.process.exitCode}): ${this.stderr}`);
      if (Date.now() - started > timeoutMs) throw new Error(`child did not print the expected line in time: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends a signal to the whole group (the script and any process it started). */
  signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-(this.process.pid ?? 0), signal);
    } catch {
      // Already gone.
    }
  }

  /** Waits for exit, killing the group if it takes longer than `timeoutMs`. */
  async exit(timeoutMs = 15_000): Promise<[number | null, NodeJS.Signals | null]> {
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.closed;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Children a test file starts, each killed after the test that started it
 * (continued first, in case the test paused it), whether the test passed or
 * not. Call once at the top of the file; returns the function that starts one.
 */
export function childrenKilledAfterEach(): (script: string | URL, args: readonly string[], env?: NodeJS.ProcessEnv) => TsChild {
  const children: TsChild[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.signal('SIGCONT');
      child.signal('SIGKILL');
      await child.exit(5000);
    }
  });
  return (script, args, env = {}) => {
    const child = new TsChild(script, args, env);
    children.push(child);
    return child;
  };
}
