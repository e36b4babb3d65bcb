import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

/** A TypeScript script running in a child Node process (through tsx), in its own process group. */
export class TsChild {
  readonly process: ChildProcess;
  stdout = '';
  stderr = '';
  readonly closed: Promise<[number | null, NodeJS.Signals | null]>;

  constructor(script: string | URL, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    const path = script instanceof URL ? fileURLToPath(script) : script;
    this.process = spawn(process.execPath, [tsxCli, path, ...args], {
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

  /** Sends a signal to the whole group (tsx runs the script in a grandchild). */
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
