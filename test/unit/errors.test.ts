import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import * as E from '../../src/errors.js';
import { codesOfKind, isRetryable, kindOf, type ErrorKind } from '../../src/errors.js';
import * as sdk from '../../src/index.js';
import { ERROR_CODES, OaasError, OaasObject, configureOaas, service, shutdown } from '../../src/index.js';
import { checkedShutdown } from '../support/runtime.js';

const ref = { clsId: 'pkg.Cls', partitionId: 0, objectId: 'o1' };
const cause = new Error('root cause');

/** One plausible instance of each error class (from the module that defines them), built the way the SDK builds it, with a cause. */
const samples: Record<string, () => OaasError> = {
  ConfigurationError: () => new E.ConfigurationError('autoCommitIntervalMs', 'must be > 0', { cause }),
  InvalidArgumentError: () => new E.InvalidArgumentError('partitionId', 'must be a non-negative integer', { cause }),
  RegistrationError: () => new E.RegistrationError('class id pkg.Cls is already registered', { cause }),
  InvalidIdError: () => new E.InvalidIdError('BAD ID', 'object id must match the pattern', { cause }),
  SerializationError: () => new E.SerializationError({ clsId: 'pkg.Cls', objectId: 'o1', path: 'tags[2]' }, 'functions cannot be stored', { cause }),
  ObjectNotFoundError: () => new E.ObjectNotFoundError(ref, { cause }),
  AlreadyExistsError: () => new E.AlreadyExistsError([ref], { cause }),
  ObjectDeletedError: () => new E.ObjectDeletedError(ref, { cause }),
  ObjectDetachedError: () => new E.ObjectDetachedError('Cls', 'pkg.Cls', 'increment', { cause }),
  ObjectBusyError: () => new E.ObjectBusyError(ref, { cause }),
  ConflictError: () => new E.ConflictError([{ ref, expected: 1, actual: 2 }], { cause }),
  FencedError: () => new E.FencedError('m1', [{ slot: 7, epoch: 3 }], { cause }),
  NotOwnerError: () => new E.NotOwnerError(ref, 'http://10.0.0.2:8080', { cause }),
  OwnedElsewhereError: () => new E.OwnedElsewhereError(ref, { id: 'web-2', url: 'http://10.0.0.2:8080' }, 'assigning count of', { cause }),
  LockTimeoutError: () => new E.LockTimeoutError(ref, 5000, { cause }),
  InvocationTimeoutError: () => new E.InvocationTimeoutError('increment', 30, { cause }),
  InvocationCancelledError: () => new E.InvocationCancelledError('countDown', { cause }),
  CommitError: () => new E.CommitError('1 of 1 sessions failed', { unpersisted: [{ ref, fields: ['count'] }], failures: [cause] }, { cause }),
  ShutdownError: () => new E.ShutdownError(undefined, { cause }),
  PendingChangesError: () => new E.PendingChangesError(ref, { cause }),
  StoreError: () => new E.StoreError('sqlite apply failed', { transient: true }, { cause }),
  ClassNotFoundError: () => new E.ClassNotFoundError('pkg.Nope', { cause }),
  MethodNotFoundError: () => new E.MethodNotFoundError('pkg.Cls', 'nope', { cause }),
  ApplicationError: () => new E.ApplicationError('RangeError', 'too big', { cause }),
  PayloadTooLargeError: () => new E.PayloadTooLargeError(1024, { cause }),
  UnauthorizedError: () => new E.UnauthorizedError(undefined, { cause }),
  RemoteError: () => new E.RemoteError('connection refused', { cause }),
  RouteNotFoundError: () => new E.RouteNotFoundError('GET', '/nope', { cause }),
  InternalError: () => new E.InternalError(undefined, { cause }),
};

const rows = Object.entries(ERROR_CODES);
const KINDS: readonly ErrorKind[] = ['request', 'application', 'system', 'conflict'];
const exports = sdk as unknown as Record<string, unknown>;

function isErrorClass(value: unknown): value is new (...args: never[]) => OaasError {
  return typeof value === 'function' && (value === OaasError || value.prototype instanceof OaasError);
}

const exportedSubclasses = Object.entries(exports)
  .filter(([, value]) => isErrorClass(value) && value !== OaasError)
  .map(([name]) => name);

describe('the error table', () => {
  it('has a unique code per row, and each class appears once', () => {
    expect(new Set(rows.map(([code]) => code)).size).toBe(rows.length);
    const classes = rows.map(([, row]) => row.error);
    expect(new Set(classes).size).toBe(classes.length);
  });

  it.each(rows)('%s is well formed and maps to an HTTP error status and a kind', (code, row) => {
    expect(code).toMatch(/^OAAS_ERR_[A-Z]+_[A-Z_]+$/);
    expect(Number.isInteger(row.status)).toBe(true);
    expect(row.status).toBeGreaterThanOrEqual(400);
    expect(row.status).toBeLessThanOrEqual(599);
    expect(KINDS).toContain(row.kind);
    // The caller's fault is a client error on the wire.
    if (row.kind === 'request') expect(row.status).toBeLessThan(500);
  });

  it('answers the kind of a code, and the codes of a kind, from the table alone', () => {
    for (const [code, row] of rows) {
      expect(kindOf(code)).toBe(row.kind);
      expect(codesOfKind(row.kind)).toContain(code);
    }
    expect(KINDS.flatMap((kind) => codesOfKind(kind)).sort()).toEqual(rows.map(([code]) => code).sort());
    expect(codesOfKind('conflict')).toEqual(['OAAS_ERR_COMMIT_CONFLICT']);
    expect(kindOf('OAAS_ERR_NO_SUCH_CODE')).toBeUndefined();
    expect(kindOf('toString')).toBeUndefined();
  });

  it.each(rows)('%s names an exported OaasError subclass whose instances carry the code', (code, row) => {
    const cls = exports[row.error];
    expect(isErrorClass(cls)).toBe(true);
    const make = samples[row.error];
    expect(make).toBeTypeOf('function');
    const error = make!();
    expect(error).toBeInstanceOf(cls as new () => OaasError);
    expect(error).toBeInstanceOf(OaasError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.status).toBe(row.status);
    expect(error.kind).toBe(row.kind);
    expect(error.name).toBe(row.error);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('lists every exported OaasError subclass', () => {
    const inTable = new Set(rows.map(([, row]) => row.error as string));
    expect(exportedSubclasses.length).toBeGreaterThan(0);
    for (const name of exportedSubclasses) expect([...inTable], `${name} is exported but has no row`).toContain(name);
    expect(Object.keys(samples).sort()).toEqual([...inTable].sort());
  });
});

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

  it.each(rows)('documents %s with its class, status and kind', (code, row) => {
    expect(doc).toContain(code);
    expect(doc).toContain(row.error);
    // The table row of the code: | `code` | `Class` | status | kind | when | what to do |
    const line = doc.split('\n').find((l) => l.trimStart().startsWith(`| \`${code}\` |`)) ?? '';
    const cells = line.split('|').slice(1, 5).map((cell) => cell.trim());
    expect(cells, `no table row for ${code}`).toEqual([`\`${code}\``, `\`${row.error}\``, String(row.status), row.kind]);
  });

  it('explains every kind', () => {
    for (const kind of KINDS) expect(doc).toMatch(new RegExp(`^\\| \`${kind}\` \\|`, 'm'));
  });

  it('mentions every exported error class and OaasError itself', () => {
    expect(doc).toContain('OaasError');
    for (const name of exportedSubclasses) expect(doc).toContain(name);
  });
});

describe('error instances', () => {
  it('are distinct objects, each named after its class', () => {
    for (const [name, make] of Object.entries(samples)) {
      const a = make();
      const b = make();
      expect(a).not.toBe(b);
      expect(a.name).toBe(name);
      expect(Object.prototype.toString.call(a)).toBe('[object Error]');
      expect(String(a).startsWith(`${name}: `)).toBe(true);
      expect(a.stack).toContain(name);
    }
  });

  it('keep the cause when given, and have none otherwise', () => {
    for (const make of Object.values(samples)) expect(make().cause).toBe(cause);
    const bare = new sdk.StoreError('x', { transient: false });
    expect(bare.cause).toBeUndefined();
    expect('cause' in bare).toBe(false);
    expect(new sdk.ShutdownError().cause).toBeUndefined();
  });

  it('carry their details', () => {
    const config = samples.ConfigurationError!() as sdk.ConfigurationError;
    expect(config.field).toBe('autoCommitIntervalMs');
    expect(config.message).toBe('autoCommitIntervalMs: must be > 0');
    expect((samples.InvalidArgumentError!() as sdk.InvalidArgumentError).argument).toBe('partitionId');
    expect((samples.InvalidIdError!() as sdk.InvalidIdError).id).toBe('BAD ID');
    const notFound = samples.ObjectNotFoundError!() as sdk.ObjectNotFoundError;
    expect(notFound.ref).toEqual(ref);
    expect(notFound.message).toContain('pkg.Cls/0/o1');
    const conflict = samples.ConflictError!() as sdk.ConflictError;
    expect(conflict.conflicts).toEqual([{ ref, expected: 1, actual: 2 }]);
    expect(conflict.message).toContain('expected v1, found v2');
    const lock = samples.LockTimeoutError!() as sdk.LockTimeoutError;
    expect([lock.timeoutMs, lock.ref]).toEqual([5000, ref]);
    const timeout = samples.InvocationTimeoutError!() as sdk.InvocationTimeoutError;
    expect([timeout.method, timeout.timeoutMs]).toEqual(['increment', 30]);
    const commit = samples.CommitError!() as sdk.CommitError;
    expect(commit.unpersisted).toEqual([{ ref, fields: ['count'] }]);
    expect(commit.failures).toEqual([cause]);
    expect((samples.StoreError!() as sdk.StoreError).transient).toBe(true);
    expect((samples.AlreadyExistsError!() as sdk.AlreadyExistsError).refs).toEqual([ref]);
    expect(new sdk.ShutdownError().message).toMatch(/configureOaas/);
    expect((samples.InvocationCancelledError!() as sdk.InvocationCancelledError).method).toBe('countDown');
    class Plain {}
    const notService = E.ClassNotFoundError.forClass(Plain);
    expect([notService.code, notService.clsId, notService.message]).toEqual(['OAAS_ERR_CLASS_NOT_FOUND', 'Plain', 'Plain is not a registered service class; decorate it with @service']);
    expect(E.ClassNotFoundError.forClass(42).clsId).toBe('42');
  });

  it('are never shared: the SDK raises a new instance each time', async () => {
    const first: unknown = await configureOaas(null as never).catch((e: unknown) => e);
    const second: unknown = await configureOaas(null as never).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(sdk.ConfigurationError);
    expect(second).toBeInstanceOf(sdk.ConfigurationError);
    expect(first).not.toBe(second);
  });
});

@service('ErrShared', { package: 'unit_errors' })
class ErrShared extends OaasObject {
  n = 0;
}

describe('errors after shutdown', () => {
  afterEach(async () => {
    await checkedShutdown();
  });

  it('are fresh ShutdownErrors', async () => {
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    await shutdown();
    const grab = (): unknown => {
      try {
        ErrShared.create();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const a = grab();
    const b = grab();
    expect(a).toBeInstanceOf(sdk.ShutdownError);
    expect((a as sdk.ShutdownError).code).toBe('OAAS_ERR_RUNTIME_SHUT_DOWN');
    expect(a).not.toBe(b);
  });
});

describe('isRetryable', () => {
  it.each([
    ['ConflictError', new sdk.ConflictError([{ ref, expected: 1, actual: 2 }]), true],
    ['LockTimeoutError', new sdk.LockTimeoutError(ref, 10), true],
    ['a transient StoreError', new sdk.StoreError('busy', { transient: true }), true],
    ['a permanent StoreError', new sdk.StoreError('disk full', { transient: false }), false],
    ['AlreadyExistsError', new sdk.AlreadyExistsError([ref]), false],
    ['ObjectBusyError', new sdk.ObjectBusyError(ref), false],
    ['InvocationTimeoutError', new sdk.InvocationTimeoutError('m', 1), false],
    ['CommitError', new sdk.CommitError('failed', { unpersisted: [], failures: [new sdk.StoreError('busy', { transient: true })] }), false],
    ['ShutdownError', new sdk.ShutdownError(), false],
    ['SerializationError', new sdk.SerializationError({ path: 'x' }, 'no'), false],
    ['a plain Error', new Error('x'), false],
    ['an error look-alike', { code: 'OAAS_ERR_COMMIT_CONFLICT', transient: true }, false],
    ['undefined', undefined, false],
    ['null', null, false],
    ['a string', 'OAAS_ERR_LOCK_TIMEOUT', false],
  ])('%s -> %s', (_label, error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });
});
