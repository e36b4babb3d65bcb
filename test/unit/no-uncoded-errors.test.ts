/**
 * Every error the library raises carries a code: no bare `new Error(...)`
 * (or another built-in error) in src/, only the `OaasError` subclasses of
 * src/errors.ts. This file imports the object layer without the package
 * root, so it also sees the errors of a runtime that never loaded.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { OaasObject } from '../../src/object/oaas-object.js';
import { ObjectRef } from '../../src/object/object-ref.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const UNCODED = /(?:\bnew\s+|\bthrow\s+|\breject\(\s*)(?:Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError)\s*\(/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `file:line: text` for each line of code (comments left out) that builds a built-in error. */
function uncodedErrors(files: readonly string[]): string[] {
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, index) => {
        const code = line.trimStart();
        if (code.startsWith('*') || code.startsWith('/*') || code.startsWith('//')) return [];
        return UNCODED.test(code.replace(/\s\/\/ .*$/, '')) ? [`${relative(SRC, file)}:${index + 1}: ${code}`] : [];
      }),
  );
}

describe('the library', () => {
  it('raises no uncoded built-in error outside src/errors.ts', () => {
    const files = sourceFiles(SRC).filter((file) => relative(SRC, file) !== 'errors.ts');
    expect(files.length).toBeGreaterThan(50);
    expect(uncodedErrors(files)).toEqual([]);
  });

  it('the scan catches the forms it is meant to', () => {
    const hits = ['throw new Error("x");', 'reject(new TypeError(`y`))', 'const e = new RangeError(msg);', 'throw Error("z")', 'Promise.reject(Error(text))'];
    const misses = ['throw new StoreError("x", { transient: true });', 'error instanceof Error', '// new Error("in a comment")', 'new ErrorList()'];
    const check = (line: string): boolean => UNCODED.test(line) && !line.trimStart().startsWith('//');
    expect(hits.filter(check)).toEqual(hits);
    expect(misses.filter(check)).toEqual([]);
  });
});

describe('before the runtime is loaded', () => {
  class Early extends OaasObject {
    n = 0;
  }

  it('ObjectRef.load() rejects with a coded ConfigurationError', async () => {
    const error: unknown = await new ObjectRef('pkg.Early', 0, 'e1').load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ code: 'OAAS_ERR_CONFIG_INVALID', field: 'import' });
    expect((error as Error).message).toMatch(/package root/);
  });

  it('Cls.create() and Cls.load() throw a coded ConfigurationError', () => {
    expect(() => Early.create()).toThrow(ConfigurationError);
    expect(() => Early.load('e1')).toThrow(/runtime is not loaded/);
  });
});
