import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// esbuild (vitest's default transform) does not emit decorator metadata; swc does,
// so tests run the same `design:*` metadata that `tsc` emits for users.
export default defineConfig({
  plugins: [
    swc.vite({
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
      },
    }),
  ],
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Every test must assert something (see the file).
    setupFiles: ['test/support/setup.ts'],
    // `*.test-d.ts` files hold type-level tests (expectTypeOf): they do nothing at run time, so
    // vitest compiles them with tsc instead and a wrong type fails its test.
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './test/tsconfig.typecheck.json',
    },
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Memory tests force collections to show that finished sessions and idle objects are released.
    execArgv: ['--expose-gc'],
    reporters: ['default'],
  },
});
