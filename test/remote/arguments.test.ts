// Remote arguments are checked before anything runs: count, declared types, the types of literal defaults, and
// `@method({ params })` Standard Schemas (hand-made here: the spec is a plain interface, no library needed).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  OaasObject,
  RegistrationError,
  commitAll,
  method,
  newSession,
  service,
  type StandardSchemaResult,
  type StandardSchemaV1,
} from '../../src/index.js';
import { rejection } from '../support/promises.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { classPath, inProcess, json, onSocket, sseEvents, type Harness } from './support.js';

shutdownAfterEach();

type Result = StandardSchemaResult<unknown>;

/** A Standard Schema from a validate function. */
function schema(validate: (value: unknown) => Result | Promise<Result>): StandardSchemaV1 {
  return { '~standard': { version: 1, vendor: 'oaas-test', validate } };
}

const integer = schema((v) => (Number.isInteger(v) ? { value: v } : { issues: [{ message: 'expected an integer' }] }));
/** Coerces numeric strings: what the method receives is the output. */
const numeric = schema((v) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? { value: n } : { issues: [{ message: 'expected a number or a numeric string' }] };
});
/** Asynchronous, and trims. */
const shortText = schema(async (v) => {
  await new Promise((resolve) => setImmediate(resolve));
  return typeof v === 'string' && v.trim().length <= 8 ? { value: v.trim() } : { issues: [{ message: 'at most 8 characters' }] };
});
/** One schema for the whole argument list, reporting the index of the bad argument in its path. */
const twoNumbers = schema((v) => {
  if (!Array.isArray(v) || v.length !== 2) return { issues: [{ message: 'expected 2 arguments' }] };
  const issues = v.flatMap((n, i) => (typeof n === 'number' ? [] : [{ message: 'expected a number', path: [{ key: i }] }]));
  return issues.length > 0 ? { issues } : { value: v };
});
const named = schema((v) => {
  const name = (v as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? { value: { name } } : { issues: [{ message: 'expected a string', path: ['name'] }] };
});
/** Schemas with bugs: one throws instead of returning issues, one outputs no argument list. */
const throwing = schema(() => {
  throw new Error('schema bug');
});
const notAList = schema(() => ({ value: 'oops' }));
const doubled = schema((v) => (typeof v === 'number' ? { value: v * 2 } : { issues: [{ message: 'expected a number' }] }));

@service('Tally', { package: 'remote_args' })
class Tally extends OaasObject {
  count = 0;
  label = '';
  owner = { name: '' };
  flagged = false;
  note = '';

  @method()
  async increment(by = 1): Promise<number> {
    this.count += by;
    return this.count;
  }

  @method()
  async add(a: number, b: number): Promise<number> {
    this.count += a + b;
    return this.count;
  }

  @method()
  async reset(): Promise<void> {
    this.count = 0;
  }

  @method()
  async mark(flag = false, note = 'none'): Promise<string> {
    this.flagged = flag;
    this.note = note;
    return `${flag}:${note}`;
  }

  @method({ params: [integer] })
  async setTo(n: number): Promise<number> {
    this.count = n;
    return n;
  }

  @method({ params: [numeric] })
  async addLoose(n: number): Promise<[number, string]> {
    this.count += n;
    return [this.count, typeof n];
  }

  @method({ params: [shortText] })
  async rename(label: string): Promise<string> {
    this.label = label;
    return label;
  }

  @method({ params: twoNumbers })
  async addBoth(a: number, b: number): Promise<number> {
    this.count += a + b;
    return this.count;
  }

  @method({ params: [named] })
  async setOwner(owner: { name: string }): Promise<string> {
    this.owner = owner;
    return owner.name;
  }

  @method({ params: [doubled], validateLocal: true })
  async addDoubled(n: number): Promise<number> {
    this.count += n;
    return this.count;
  }

  /** Checked remotely only (the default): a local call gets its argument as it is. */
  @method({ params: [integer] })
  async store(n: unknown): Promise<unknown> {
    this.label = String(n);
    return n;
  }

  @method({ params: [throwing] })
  async withThrowingSchema(n: number): Promise<number> {
    this.count = n;
    return n;
  }

  @method({ params: notAList })
  async withBadListSchema(n: number): Promise<number> {
    this.count = n;
    return n;
  }

  @method({ params: [integer], stateless: true })
  async square(n: number): Promise<number> {
    return n * n;
  }

  @method({ params: [integer] })
  async *countDown(from: number): AsyncGenerator<number> {
    for (let i = from; i > 0; i--) yield i;
  }
}

const CLS = 'remote_args.Tally';
type ErrorReply = { error: { code: string; message: string } };

function call(h: Harness, id: string, name: string, body?: string): Promise<Response> {
  return h.request(`${classPath(CLS)}/objects/${id}/invokes/${name}`, { method: 'POST', body });
}

/** Creates an object with its default state. */
function create(h: Harness, id: string): Promise<Response> {
  return h.request(`${classPath(CLS)}/objects/${id}`, { method: 'PUT', body: JSON.stringify({ entries: {} }) });
}

async function state(h: Harness, id: string): Promise<unknown> {
  return json(await h.request(`${classPath(CLS)}/objects/${id}`));
}

/** Asserts a 400 with the argument code and returns the message. */
async function badArgument(response: Response): Promise<string> {
  const body = (await json(response)) as ErrorReply;
  expect({ status: response.status, code: body.error.code }).toEqual({ status: 400, code: 'OAAS_ERR_ARGUMENT_INVALID' });
  return body.error.message;
}

/** Sends each bad body and checks the reply and that the object's stored state did not move. */
async function refused(h: Harness, id: string, name: string, body: string | undefined, message: RegExp): Promise<void> {
  const before = await state(h, id);
  expect(await badArgument(await call(h, id, name, body))).toMatch(message);
  expect(await state(h, id)).toEqual(before);
}

describe('remote arguments (in process)', () => {
  let h: Harness;
  beforeAll(() => {
    h = inProcess();
  });
  beforeEach(async () => {
    await freshRuntime();
    expect((await create(h, 't1')).status).toBe(200);
    expect(await json(await call(h, 't1', 'increment', '44'))).toBe(44);
  });

  it('a default of 1 means a number: a string or an array for increment(by = 1) is a 400 and changes nothing', async () => {
    await refused(h, 't1', 'increment', '"two"', /^increment\(by\): expected a number, got "two"$/);
    await refused(h, 't1', 'increment', '[1,2]', /^increment\(by\): expected a number, got an array$/);
    await refused(h, 't1', 'increment', '{"n":1}', /^increment\(by\): expected a number, got an? Object$/);
    expect(await state(h, 't1')).toMatchObject({ version: 2, entries: { count: 44 } });
    // What is allowed: a number, nothing (the default), and null (also the default: JSON has no undefined).
    expect(await json(await call(h, 't1', 'increment', '2'))).toBe(46);
    expect(await json(await call(h, 't1', 'increment'))).toBe(47);
    expect(await json(await call(h, 't1', 'increment', 'null'))).toBe(48);
  });

  it('string and boolean defaults are checked the same way; null in an argument array takes the default', async () => {
    await refused(h, 't1', 'mark', '["yes", "x"]', /^mark\(flag\): expected a boolean, got "yes"$/);
    await refused(h, 't1', 'mark', '[true, 5]', /^mark\(note\): expected a string, got 5$/);
    expect(await json(await call(h, 't1', 'mark', '[null, "seen"]'))).toBe('false:seen');
    expect(await json(await call(h, 't1', 'mark', '[true]'))).toBe('true:none');
  });

  it('too many arguments is a 400 and changes nothing', async () => {
    await refused(h, 't1', 'add', '[1, 2, 3]', /^add\(\.\.\.\): takes 2 arguments, got 3$/);
    await refused(h, 't1', 'reset', '5', /^reset\(\.\.\.\): takes 0 arguments, got 1$/);
    // An array for a method of one parameter is that one argument, as before: here refused for its type.
    await refused(h, 't1', 'increment', '[1]', /^increment\(by\): expected a number/);
    expect(await json(await call(h, 't1', 'add', '[1, 2]'))).toBe(47);
  });

  it('declared (design) types are still checked, naming the parameter', async () => {
    await refused(h, 't1', 'add', '["1", 2]', /^add\(a\): expected a number, got "1"$/);
    await refused(h, 't1', 'add', '[1, true]', /^add\(b\): expected a number, got true$/);
  });

  it('a failing schema is a 400 carrying the issue, naming the parameter (and the path inside it)', async () => {
    await refused(h, 't1', 'setTo', '1.5', /^setTo\(n\): expected an integer$/);
    await refused(h, 't1', 'setTo', undefined, /^setTo\(n\): expected an integer$/);
    await refused(h, 't1', 'setOwner', '{"name": 7}', /^setOwner\(owner\.name\): expected a string$/);
    await refused(h, 't1', 'addBoth', '[1, "x"]', /^addBoth\(b\): expected a number$/);
    await refused(h, 't1', 'addBoth', '[1]', /^addBoth\(\.\.\.\): expected 2 arguments$/);
    expect(await json(await call(h, 't1', 'setTo', '7'))).toBe(7);
    expect(await json(await call(h, 't1', 'addBoth', '[1, 2]'))).toBe(10);
    expect(await json(await call(h, 't1', 'setOwner', '{"name": "ada", "extra": true}'))).toBe('ada');
    expect(await state(h, 't1')).toMatchObject({ entries: { owner: { name: 'ada' } } });
  });

  it('replaces the inferred checks: the method receives what the schema outputs (a coerced value)', async () => {
    expect(await json(await call(h, 't1', 'addLoose', '"6"'))).toEqual([50, 'number']);
    expect(await state(h, 't1')).toMatchObject({ entries: { count: 50 } });
    await refused(h, 't1', 'addLoose', '"six"', /^addLoose\(n\): expected a number or a numeric string$/);
  });

  it('awaits an asynchronous schema, and uses its output', async () => {
    expect(await json(await call(h, 't1', 'rename', '"  short  "'))).toBe('short');
    expect(await state(h, 't1')).toMatchObject({ entries: { label: 'short' } });
    await refused(h, 't1', 'rename', '"far too long a name"', /^rename\(label\): at most 8 characters$/);
  });

  it('checks a remote call once, even when the method also checks local calls', async () => {
    // `doubled` doubles: applied twice, 5 would add 20.
    expect(await json(await call(h, 't1', 'addDoubled', '5'))).toBe(54);
  });

  it('checks stateless and streaming methods before they run', async () => {
    const stateless = (body: string) => h.request(`${classPath(CLS)}/invokes/square`, { method: 'POST', body });
    expect(await json(await stateless('4'))).toBe(16);
    expect(await badArgument(await stateless('"4"'))).toBe('square(n): expected an integer');
    expect(await badArgument(await call(h, 't1', 'countDown', '2.5'))).toBe('countDown(from): expected an integer');
    expect(await sseEvents(await call(h, 't1', 'countDown', '2'))).toEqual([
      { event: 'message', data: '2' },
      { event: 'message', data: '1' },
      { event: 'end', data: '' },
    ]);
  });

  it("a schema with a bug is the server's fault (500), and still changes nothing", async () => {
    const before = await state(h, 't1');
    const thrown = await call(h, 't1', 'withThrowingSchema', '1');
    expect([thrown.status, ((await json(thrown)) as ErrorReply).error.code]).toEqual([500, 'OAAS_ERR_SERVER_INTERNAL']);
    const notList = await call(h, 't1', 'withBadListSchema', '1');
    const body = (await json(notList)) as ErrorReply;
    expect([notList.status, body.error.code]).toEqual([500, 'OAAS_ERR_REGISTRY_CONFLICT']);
    expect(body.error.message).toMatch(/must output the array of arguments/);
    expect(await state(h, 't1')).toEqual(before);
  });

  it('does the same for the legacy invocation request', async () => {
    const session = newSession();
    const before = await state(h, 't1');
    const response = await session.objRpc({ clsId: CLS, partitionId: 0, objectId: 't1', fnId: 'increment', payload: '"two"' });
    expect(response.status).toBe('INVALID_REQUEST');
    const body = JSON.parse(new TextDecoder().decode(response.payload)) as { code: string; error_message: string };
    expect(body).toMatchObject({ code: 'OAAS_ERR_ARGUMENT_INVALID', error_message: 'increment(by): expected a number, got "two"' });
    const coerced = await session.objRpc({ clsId: CLS, partitionId: 0, objectId: 't1', fnId: 'addLoose', payload: '"1"' });
    expect(coerced.status).toBe('OKAY');
    expect(JSON.parse(new TextDecoder().decode(coerced.payload))).toEqual([45, 'number']);
    const schemaFail = await session.objRpc({ clsId: CLS, partitionId: 0, objectId: 't1', fnId: 'setTo', payload: '0.5' });
    expect(schemaFail.status).toBe('INVALID_REQUEST');
    // Only the good call changed the object: one commit, one more version.
    await commitAll();
    expect(await state(h, 't1')).toMatchObject({ version: (before as { version: number }).version + 1, entries: { count: 45 } });
  });
});

describe('local calls', () => {
  beforeEach(async () => {
    await freshRuntime();
  });

  it('are not checked by default (speed): the argument arrives as it is', async () => {
    const t = Tally.create({}, { id: 'l1' });
    expect(await t.store(1.5)).toBe(1.5);
    expect(await t.increment('x' as never)).toBe('0x');
  });

  it('are checked, and get the schema output, with validateLocal: true', async () => {
    const t = Tally.create({}, { id: 'l2' });
    expect(await t.addDoubled(3)).toBe(6);
    const error = await rejection(t.addDoubled('3' as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).message).toBe('addDoubled(n): expected a number');
    expect(t.count).toBe(6);
    await commitAll();
  });
});

describe('params at decoration time', () => {
  function declare(options: unknown): unknown {
    class Target extends OaasObject {
      @method(options as never)
      async run(a: number, b = 1): Promise<number> {
        return a + b;
      }
    }
    return Target;
  }

  it('accepts one schema per parameter, or one schema for the argument list', () => {
    expect(declare({ params: [integer, integer] })).toBeTypeOf('function');
    expect(declare({ params: twoNumbers, validateLocal: false })).toBeTypeOf('function');
  });

  it.each([
    ['a string', 'number'],
    ['a number', 5],
    ['a plain object', { validate: () => ({ value: 1 }) }],
    ['an array with a non-schema', [integer, 'x']],
    ['an array of the wrong length', [integer]],
    ['a schema of another version', [integer, { '~standard': { version: 2, vendor: 'x', validate: () => ({ value: 1 }) } }]],
    ['a schema without validate', [integer, { '~standard': { version: 1, vendor: 'x' } }]],
  ])('refuses params that are %s with a RegistrationError', (_label, params) => {
    expect(() => declare({ params })).toThrow(RegistrationError);
  });

  it('refuses a validateLocal that is not a boolean', () => {
    expect(() => declare({ validateLocal: 'yes' })).toThrow(RegistrationError);
  });
});

describe('remote arguments (on a socket)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await onSocket();
  });
  afterAll(async () => {
    await h.close();
  });

  it('a string for increment(by = 1) is a 400 and the stored count stays a number', async () => {
    await freshRuntime();
    await create(h, 's1');
    await call(h, 's1', 'increment', '44');
    await refused(h, 's1', 'increment', '"two"', /^increment\(by\): expected a number/);
    await refused(h, 's1', 'setTo', '"x"', /^setTo\(n\): expected an integer$/);
    expect(await state(h, 's1')).toMatchObject({ entries: { count: 44 } });
  });
});
