// examples/cluster runs as its README says, on a real PostgreSQL: three members, a call through each, the owner stopped, the others answering.
import { expect, it } from 'vitest';
import { TsChild } from '../support/child.js';
import { describeOnSharedStores } from '../support/servers.js';

await describeOnSharedStores((kind) => `examples/cluster on ${kind}`, (server) => {
  it('runs three members, survives stopping the owner, and stops every child', { timeout: 90_000 }, async () => {
    const child = new TsChild(new URL('../../examples/cluster/main.ts', import.meta.url), [], { DATABASE_URL: await server.freshStore() });
    try {
      const [code] = await child.exit(80_000);
      expect(code, child.stderr).toBe(0);
    } finally {
      child.signal('SIGKILL');
    }
    const lines = child.lines;
    const counts = lines.map((line) => /count (\d+)/.exec(line)?.[1]).filter((n) => n !== undefined).map(Number);
    // Five increments through different members, on one object, in order: nothing lost across the owner's exit.
    expect(counts).toEqual([1, 2, 3, 4, 5]);
    expect(lines.some((line) => /exited with 0/.test(line))).toBe(true);
    expect(lines.at(-1)).toMatch(/^stopped: .*\(0\), .*\(0\), .*\(0\)$/);
  });
});
