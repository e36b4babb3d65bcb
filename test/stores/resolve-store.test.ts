import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { createStore, parseStoreSpec } from '../../src/stores/resolve-store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';

function configError(spec: unknown, field?: string): ConfigurationError {
  try {
    parseStoreSpec(spec as string, field);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('OAAS_ERR_CONFIG_INVALID');
    expect((error as ConfigurationError).field).toBe(field ?? 'store');
    return error as ConfigurationError;
  }
  return expect.fail(`expected ${String(spec)} to be refused`);
}

describe('parseStoreSpec', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oaas-spec-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts memory', () => {
    expect(parseStoreSpec('memory')).toEqual({ kind: 'memory' });
    expect(parseStoreSpec(' memory\n')).toEqual({ kind: 'memory' });
  });

  it('accepts sqlite with a file path, creating the parent folder', () => {
    const path = join(dir, 'nested', 'deeper', 'state.db');
    expect(parseStoreSpec(`sqlite:${path}`)).toEqual({ kind: 'sqlite', path, synchronous: 'full' });
    expect(statSync(join(dir, 'nested', 'deeper')).isDirectory()).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('resolves a relative path against the current directory', () => {
    const relative = join('.oaas-test-spec', 'state.db');
    try {
      expect(parseStoreSpec(`sqlite:${relative}`)).toEqual({ kind: 'sqlite', path: resolve(relative), synchronous: 'full' });
      expect(existsSync(resolve('.oaas-test-spec'))).toBe(true);
    } finally {
      rmSync(resolve('.oaas-test-spec'), { recursive: true, force: true });
    }
  });

  it('accepts sqlite::memory: and the synchronous option', () => {
    expect(parseStoreSpec('sqlite::memory:')).toEqual({ kind: 'sqlite', path: ':memory:', synchronous: 'full' });
    expect(parseStoreSpec('sqlite::memory:?synchronous=normal')).toEqual({ kind: 'sqlite', path: ':memory:', synchronous: 'normal' });
    const path = join(dir, 'state.db');
    expect(parseStoreSpec(`sqlite:${path}?synchronous=full`)).toEqual({ kind: 'sqlite', path, synchronous: 'full' });
    expect(parseStoreSpec(`sqlite:${path}?synchronous=normal`)).toEqual({ kind: 'sqlite', path, synchronous: 'normal' });
  });

  it('refuses a value that is not a string', () => {
    for (const spec of [42, undefined, null, { kind: 'memory' }]) {
      expect(configError(spec).message).toMatch(/must be a string/);
    }
  });

  it('refuses an unknown scheme, listing the supported ones', () => {
    for (const spec of ['', 'mem', 'MEMORY', 'memory:x', 'sqlite', 'mysql://user:secret@db/oaas', 'mongodb://localhost']) {
      const error = configError(spec, 'store (OAAS_STORE)');
      expect(error.message).toContain('memory, sqlite:<path>');
      expect(error.message).toContain('postgres://');
      expect(error.message).not.toContain('secret');
    }
  });

  it('accepts postgres and redis URLs as they are, and refuses malformed ones without echoing them', () => {
    expect(parseStoreSpec('postgres://app:pw@db:5432/oaas')).toEqual({ kind: 'postgres', url: 'postgres://app:pw@db:5432/oaas' });
    expect(parseStoreSpec('postgresql://db/oaas')).toEqual({ kind: 'postgres', url: 'postgresql://db/oaas' });
    expect(parseStoreSpec('redis://cache:6379/2')).toEqual({ kind: 'redis', url: 'redis://cache:6379/2' });
    const error = configError('postgres://user:secret@', 'store');
    expect(error.message).not.toContain('secret');
  });

  it('refuses an empty sqlite path', () => {
    expect(configError('sqlite:').message).toMatch(/needs a path/);
    expect(configError('sqlite:?synchronous=full').message).toMatch(/needs a path/);
  });

  it('refuses a path that is an existing directory', () => {
    expect(configError(`sqlite:${dir}`).message).toMatch(/is a directory/);
  });

  it('refuses a path whose parent cannot be created', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'x');
    const error = configError(`sqlite:${join(file, 'sub', 'state.db')}`);
    expect(error.message).toMatch(/cannot create the folder/);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses unknown, repeated or invalid query options', () => {
    const path = join(dir, 'state.db');
    expect(configError(`sqlite:${path}?journal=wal`).message).toMatch(/unknown sqlite option "journal"/);
    expect(configError(`sqlite:${path}?synchronous=full&synchronous=normal`).message).toMatch(/more than once/);
    expect(configError(`sqlite:${path}?synchronous=off`).message).toMatch(/full or normal/);
    expect(configError(`sqlite:${path}?synchronous`).message).toMatch(/full or normal/);
  });
});

describe('createStore', () => {
  it('creates an open memory store', async () => {
    const store = await createStore({ kind: 'memory' });
    expect(store).toBeInstanceOf(MemoryStore);
    expect(await store.apply([{ kind: 'put', key: { clsId: 'c', partitionId: 0, objectId: 'a' } }])).toEqual([1]);
    await store.close();
  });

  it('creates an open sqlite store on a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oaas-spec-'));
    try {
      const store = await createStore(parseStoreSpec(`sqlite:${join(dir, 'db', 'state.db')}?synchronous=normal`));
      expect(store).toBeInstanceOf(SqliteStore);
      expect(store.name).toBe('sqlite');
      // open() ran: the file exists before any write.
      expect(existsSync(join(dir, 'db', 'state.db'))).toBe(true);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('creates an in-memory sqlite store', async () => {
    const store = await createStore(parseStoreSpec('sqlite::memory:'));
    expect(store.name).toBe('sqlite');
    expect(await store.apply([{ kind: 'put', key: { clsId: 'c', partitionId: 0, objectId: 'a' } }])).toEqual([1]);
    await store.close();
  });

  it('refuses an unknown kind', async () => {
    await expect(createStore({ kind: 'mysql' } as unknown as Parameters<typeof createStore>[0])).rejects.toBeInstanceOf(ConfigurationError);
  });
});
