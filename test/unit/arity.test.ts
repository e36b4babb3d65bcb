import { describe, expect, it } from 'vitest';
import { declaredParameterCount } from '../../src/registry/registry.js';
import { TsChild } from '../support/child.js';

describe('declaredParameterCount', () => {
  it('counts declared parameters, defaults and patterns included, whatever the compiler', () => {
    class Sample {
      none(): void {}
      one(a: number): number { return a; }
      defaults(a: number, b = 1): number { return a + b; }
      tricky(a = ')', { b, c }: { b: number; c: number } = { b: 1, c: 2 }, [d, e] = [3, 4], f = (x: number, y: number) => x + y): number {
        return a.length + b + c + d + e + f(1, 2);
      }
      rest(a: number, ...more: number[]): number { return a + more.length; }
      /* comment, with commas */ commented(/* a, b */ only: string): string { return only; }
    }
    const p = Sample.prototype;
    expect(declaredParameterCount(p.none)).toBe(0);
    expect(declaredParameterCount(p.one)).toBe(1);
    expect(declaredParameterCount(p.defaults)).toBe(2);
    expect(declaredParameterCount(p.tricky)).toBe(4);
    expect(declaredParameterCount(p.rest)).toBe(2);
    expect(declaredParameterCount(p.commented)).toBe(1);
    expect(declaredParameterCount(async (x: number, y: number) => x + y)).toBe(2);
  });
});

describe('arity under tsx', () => {
  it('add(a, b = 1) wants a JSON array under tsx too, as docs/migration.md says', async () => {
    const child = new TsChild(new URL('../fixtures/arity-tsx.ts', import.meta.url), ['5', '[5]', '[5, 2]']);
    const [code] = await child.exit();
    expect(code, child.stderr).toBe(0);
    expect(child.lines).toEqual([
      '5 INVALID_REQUEST {"error_type":"InvalidArgumentError","error_message":"payload: add takes 2 arguments: send a JSON array","code":"OAAS_ERR_ARGUMENT_INVALID"}',
      '[5] OKAY 6',
      '[5, 2] OKAY 7',
    ]);
  });
});
