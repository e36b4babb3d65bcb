import { describe, expect, it } from 'vitest';
import { declaredParameters, parametersFromSource } from '../../src/registry/parameters.js';

describe('declaredParameters', () => {
  it('reads names and the type of literal defaults from the source', () => {
    class Sample {
      numbers(a = 1, b = -2.5, c = 0x1f, d = 1e3, e = .5, f = 1_000): number {
        return a + b + c + d + e + f;
      }
      strings(a = 'x', b = "y, z", c = `t`, d = `${'n'}`): string {
        return a + b + c + d;
      }
      others(on = true, off = false, list: number[] = [], obj = { a: 1 }, big = 1n, ref = Number.MAX_SAFE_INTEGER, plain?: string): string {
        return `${on}${off}${list.length}${obj.a}${big}${ref}${plain}`;
      }
      patterns({ a, b }: { a: number; b: number } = { a: 1, b: 2 }, [c] = [3], ...rest: number[]): number {
        return a + b + c + rest.length;
      }
    }
    const p = Sample.prototype;
    expect(declaredParameters(p.numbers)).toEqual(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name, literal: 'number' })));
    expect(declaredParameters(p.strings)).toEqual([
      { name: 'a', literal: 'string' },
      { name: 'b', literal: 'string' },
      { name: 'c', literal: 'string' },
      // A template with a substitution is an expression, not a literal.
      { name: 'd', literal: undefined },
    ]);
    expect(declaredParameters(p.others)).toEqual([
      { name: 'on', literal: 'boolean' },
      { name: 'off', literal: 'boolean' },
      { name: 'list', literal: undefined },
      { name: 'obj', literal: undefined },
      { name: 'big', literal: undefined },
      { name: 'ref', literal: undefined },
      { name: 'plain', literal: undefined },
    ]);
    expect(declaredParameters(p.patterns)).toEqual([
      { name: undefined, literal: undefined },
      { name: undefined, literal: undefined },
      { name: 'rest', literal: undefined },
    ]);
  });

  it('skips comments, commas in them included (compilers differ in which comments they keep)', () => {
    const source = "run(a /* x, y */ = 1, // b, c\n d = 'e',) { return a + d; }";
    expect(parametersFromSource(source)).toEqual([
      { name: 'a', literal: 'number' },
      { name: 'd', literal: 'string' },
    ]);
    expect(parametersFromSource('run(a = 1 /* never closed')).toBeUndefined();
  });
});
