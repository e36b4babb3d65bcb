// Malformed input to a store's argument checks: a typed error, and nothing changed (see support.ts).
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MemoryStore, type OaasError } from '../../../src/index.js';
import { type ErrorClass, rejection, ARG, freshRuntimeEachTest } from './support.js';

freshRuntimeEachTest();

describe('MemoryStore', () => {
  const store = new MemoryStore();
  const cls = (error: unknown, expected: ErrorClass): void => {
    expect(error).toBeInstanceOf(expected);
    expect((error as OaasError).code).toBe(ARG);
  };

  it('refuses malformed keys, batches and list options', async () => {
    cls(await rejection(() => store.get({} as never)), InvalidArgumentError);
    cls(await rejection(() => store.get({ clsId: 'c', partitionId: -1, objectId: 'x' })), InvalidArgumentError);
    cls(await rejection(() => store.getMany('keys' as never)), InvalidArgumentError);
    cls(await rejection(() => store.apply('ops' as never)), InvalidArgumentError);
    cls(await rejection(() => store.apply([{ kind: 'upsert' } as never])), InvalidArgumentError);
    cls(await rejection(() => store.list('', 0)), InvalidArgumentError);
    cls(await rejection(() => store.list('c', 0, { limit: 0 })), InvalidArgumentError);
    cls(await rejection(() => store.list('c', 0, { cursor: '!!' })), InvalidArgumentError);
    expect((await store.list('c', 0)).objects).toEqual([]);
  });
});
