import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const tscBin = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** How a consumer compiles its decorators. */
export type Flavour = 'standard' | 'legacy';

export interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs Node with `args`, never rejecting: the exit code is part of the result. */
export function runNode(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

const BASE_OPTIONS = {
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  strict: true,
  skipLibCheck: true,
  types: ['node'],
};

const FLAVOUR_OPTIONS: Record<Flavour, object> = {
  standard: {},
  legacy: { experimentalDecorators: true, emitDecoratorMetadata: true },
};

/**
 * A project that uses the SDK the way an application does: `oaas-sdk` in its
 * `node_modules` is the package built from this checkout (`dist/` and
 * `package.json`), and it is compiled with a tsconfig of its own. The
 * fixtures are copied in; `sdk.ts` re-exports `oaas-sdk` instead of the source.
 */
export class ConsumerProject {
  readonly root = mkdtempSync(join(tmpdir(), 'oaas-decorators-'));
  readonly app = join(this.root, 'app');

  /** Builds the SDK into the project and copies the fixtures. */
  async setUp(): Promise<void> {
    const sdk = join(this.root, 'sdk');
    const build = await runNode([tscBin, '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(sdk, 'dist')], repo);
    if (build.code !== 0) throw new Error(`building the SDK failed:\n${build.stdout}${build.stderr}`);
    cpSync(join(repo, 'package.json'), join(sdk, 'package.json'));
    symlinkSync(join(repo, 'node_modules'), join(sdk, 'node_modules'), 'dir');

    mkdirSync(join(this.app, 'node_modules', '@types'), { recursive: true });
    symlinkSync(sdk, join(this.app, 'node_modules', 'oaas-sdk'), 'dir');
    symlinkSync(join(repo, 'node_modules', '@types', 'node'), join(this.app, 'node_modules', '@types', 'node'), 'dir');
    writeFileSync(join(this.app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    cpSync(fixtures, this.app, { recursive: true });
    writeFileSync(join(this.app, 'sdk.ts'), "export * from 'oaas-sdk';\n");
    mkdirSync(join(this.app, 'misuse'), { recursive: true });
  }

  /** Writes a module into the project. */
  write(path: string, source: string): void {
    writeFileSync(join(this.app, path), source);
  }

  /**
   * Writes `tsconfig.<name>.json` for a flavour and the given files; its
   * output goes to `out/<name>/`. Returns the tsconfig's path.
   */
  tsconfig(name: string, flavour: Flavour, files: readonly string[]): string {
    const path = join(this.app, `tsconfig.${name}.json`);
    const compilerOptions = { ...BASE_OPTIONS, ...FLAVOUR_OPTIONS[flavour], outDir: `out/${name}` };
    writeFileSync(path, JSON.stringify({ compilerOptions, files }, null, 2));
    return path;
  }

  /** Runs plain `tsc -p` on a tsconfig (it emits even when it reports errors). */
  tsc(tsconfig: string): Promise<Finished> {
    return runNode([tscBin, '-p', tsconfig, '--pretty', 'false'], this.app);
  }

  /** Runs a compiled module of `out/<name>/`. */
  node(name: string, module: string, args: readonly string[]): Promise<Finished> {
    return runNode([join(this.app, 'out', name, module), ...args], this.app);
  }

  path(...parts: string[]): string {
    return join(this.app, ...parts);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** The error lines of tsc's output, as `file(line,col): error TSnnnn`. */
export function typeErrors(output: string): string[] {
  return output.split('\n').filter((line) => / error TS\d+:/.test(line));
}
