// The layering rule of `npm run lint` refuses an import that runs up the layers, and the real tree passes it.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import layers, { FLOORS } from '../../eslint-layers.js';

const eslint = new ESLint({
  overrideConfigFile: true,
  overrideConfig: { files: ['**/*.ts'], plugins: { oaas: layers }, rules: { 'oaas/layers': 'error' } },
});

async function messages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.map((m) => m.message);
}

describe('the layering rule', () => {
  it('refuses an import that points up a floor', async () => {
    expect(await messages('src/object/new-module.ts', "import { OaasRuntime } from '../runtime/oaas-runtime.js';\nexport { OaasRuntime };\n")).toEqual([
      'object/ (floor 3) must not import runtime/ (floor 7): imports run down the layers',
    ]);
    expect(await messages('src/stores/x.ts', "export type { Session } from '../session/session.js';\n")).toHaveLength(1);
    expect(await messages('src/session/x.ts', "const m = await import('../invocation/gateway.js');\nexport default m;\n")).toHaveLength(1);
  });

  it('refuses the client importing the runtime side, though its floor is higher', async () => {
    expect(await messages('src/client/x.ts', "import { Gateway } from '../invocation/gateway.js';\nexport { Gateway };\n")).toEqual(['client/ must not import invocation/']);
  });

  it('refuses a folder that has no floor yet, and lets imports down the floors pass', async () => {
    expect(await messages('src/session/x.ts', "import { a } from '../newroom/a.js';\nexport { a };\n")).toEqual([
      'src/newroom has no floor in eslint-layers.js: place it before importing it',
    ]);
    expect(await messages('src/runtime/x.ts', "import { ObjectCore } from '../object/object-core.js';\nimport { keyString } from '../identity.js';\nexport { ObjectCore, keyString };\n")).toEqual([]);
  });

  it('places every folder and top-level module of src/', async () => {
    const { readdir } = await import('node:fs/promises');
    const rooms = (await readdir('src')).map((name) => name.replace(/\.ts$/, ''));
    const placed = new Set(FLOORS.flat());
    expect(rooms.filter((room) => !placed.has(room))).toEqual([]);
  });
});
