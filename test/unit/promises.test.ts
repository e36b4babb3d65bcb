import { describe, expect, it } from 'vitest';
import { promiseOf, rejected } from '../../src/promises.js';

describe('rejected', () => {
  it('rejects with exactly the value given, error or not', async () => {
    const error = new Error('boom');
    await expect(rejected(error)).rejects.toBe(error);
    await expect(rejected('plain')).rejects.toBe('plain');
    await expect(rejected(undefined)).rejects.toBeUndefined();
  });
});

describe('promiseOf', () => {
  it('hands back the function`s own promise unchanged', () => {
    const own = Promise.resolve(7);
    expect(promiseOf(() => own)).toBe(own);
  });

  it('resolves a plain value and adopts a thenable', async () => {
    await expect(promiseOf(() => 3)).resolves.toBe(3);
    const thenable = { then: (resolve: (v: number) => void) => resolve(5) } as unknown as Promise<number>;
    await expect(promiseOf(() => thenable)).resolves.toBe(5);
  });

  it('turns a synchronous throw into a rejection instead of throwing', async () => {
    const error = new TypeError('sync');
    let result: Promise<never> | undefined;
    expect(() => {
      result = promiseOf(() => {
        throw error;
      });
    }).not.toThrow();
    await expect(result).rejects.toBe(error);
  });
});
