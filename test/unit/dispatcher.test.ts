import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  OaasObject,
  StoreError,
  commitAll,
  configureOaas,
  method,
  newSession,
  service,
  shutdown,
  type InvocationRequest,
  type InvocationResponse,
  type LegacySessionAdapter,
} from '../../src/index.js';
import { checkedShutdown } from '../support/runtime.js';

@service('Calc', { package: 'unit_dispatch' })
class Calc extends OaasObject {
  total = 0;
  log: string[] = [];

  @method()
  async echo(value: unknown): Promise<unknown> {
    return value;
  }

  @method()
  async addTo(amount: number): Promise<number> {
    this.total += amount;
    return this.total;
  }

  @method()
  async sum(a: number, b: number, c: number): Promise<number> {
    this.total = a + b + c;
    return this.total;
  }

  @method()
  async read(): Promise<{ total: number; log: string[] }> {
    return { total: this.total, log: [...this.log] };
  }

  @method()
  async touch(): Promise<void> {
    this.log.push('touched');
  }

  @method({ stateless: true })
  async shout(text: string): Promise<string> {
    return text.toUpperCase();
  }

  @method({ name: 'renamed' })
  async internalName(): Promise<string> {
    return 'by invocation name';
  }

  @method()
  async failAfterChange(message: string): Promise<never> {
    this.total = -1;
    this.log.push('half-done');
    throw new RangeError(message);
  }

  @method()
  async failWithString(): Promise<never> {
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    throw 'plain string failure';
  }

  @method()
  async failWithCode(): Promise<never> {
    throw new InvalidArgumentError('amount', 'must be positive');
  }

  @method()
  async failWithStore(): Promise<never> {
    throw new StoreError('disk on fire', { transient: false });
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CLS = 'unit_dispatch.Calc';

/** The JSON the response carries, or `undefined` when it carries none. */
function payloadOf(response: InvocationResponse): unknown {
  if (response.payload === undefined || response.payload.length === 0) return undefined;
  expect(response.payload).toBeInstanceOf(Uint8Array);
  return JSON.parse(decoder.decode(response.payload));
}

/** A request to `calc-1`, or (objectId `null`) a request without an objectId. */
function request(fnId: string, payload?: string | Uint8Array, objectId: string | null = 'calc-1'): InvocationRequest {
  return { clsId: CLS, partitionId: 0, fnId, ...(objectId === null ? {} : { objectId }), ...(payload === undefined ? {} : { payload }) };
}

let session: LegacySessionAdapter;
let calc: Calc;

beforeEach(async () => {
  await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
  calc = Calc.create({ total: 10 }, { id: 'calc-1' });
  await commitAll();
  session = newSession();
});

afterEach(async () => {
  await checkedShutdown();
});

describe('successful invocations', () => {
  it('passes a one-argument payload given as a string and answers OKAY with the JSON result', async () => {
    const r = await session.objRpc(request('addTo', '5'));
    expect(r.status).toBe('OKAY');
    expect(payloadOf(r)).toBe(15);
    expect(calc.total).toBe(15);
  });

  it('accepts the payload as UTF-8 bytes', async () => {
    const r = await session.objRpc(request('echo', encoder.encode(JSON.stringify({ word: 'grüß', n: [1, 2] }))));
    expect(r.status).toBe('OKAY');
    expect(payloadOf(r)).toEqual({ word: 'grüß', n: [1, 2] });
  });

  it('passes an array payload as the single argument of a one-argument method', async () => {
    const r = await session.invokeLocal(request('echo', '[1,2,3]'));
    expect(r.status).toBe('OKAY');
    expect(payloadOf(r)).toEqual([1, 2, 3]);
  });

  it('spreads an array payload over the arguments of a multi-argument method', async () => {
    const r = await session.objRpc(request('sum', '[1, 2, 3]'));
    expect(r.status).toBe('OKAY');
    expect(payloadOf(r)).toBe(6);
    expect(calc.total).toBe(6);
  });

  it('calls a method without arguments with an empty, blank or absent payload', async () => {
    for (const payload of [undefined, '', '  \n', new Uint8Array(0)]) {
      const r = await session.objRpc(request('read', payload));
      expect(r.status).toBe('OKAY');
      expect(payloadOf(r)).toEqual({ total: 10, log: [] });
    }
  });

  it('answers OKAY without a payload for a method that returns nothing', async () => {
    const r = await session.objRpc(request('touch'));
    expect(r.status).toBe('OKAY');
    expect(r.payload).toBeUndefined();
    expect([...calc.log]).toEqual(['touched']);
  });

  it('passes JSON null and falsy values through as arguments', async () => {
    expect(payloadOf(await session.objRpc(request('echo', 'null')))).toBeNull();
    expect(payloadOf(await session.objRpc(request('echo', '0')))).toBe(0);
    expect(payloadOf(await session.objRpc(request('echo', '""')))).toBe('');
    expect(payloadOf(await session.objRpc(request('echo', 'false')))).toBe(false);
  });

  it('finds a method by its invocation name', async () => {
    const r = await session.objRpc(request('renamed'));
    expect(r.status).toBe('OKAY');
    expect(payloadOf(r)).toBe('by invocation name');
    const byProperty = await session.objRpc(request('internalName'));
    expect(byProperty.status).toBe('INVALID_REQUEST');
  });

  it('runs a stateless method through fnRpc without an objectId', async () => {
    const r = await session.fnRpc(request('shout', '"hello"', null));
    expect(r.status).toBe('OKAY');
    expect(payloadOf(r)).toBe('HELLO');
  });

  it('objRpc, fnRpc, invokeLocal and their async aliases answer alike', async () => {
    const calls = [session.objRpc, session.objRpcAsync, session.fnRpc, session.fnRpcAsync, session.invokeLocal, session.invokeLocalAsync];
    for (const call of calls) {
      const r = await call.call(session, request('echo', '"same"'));
      expect(r.status).toBe('OKAY');
      expect(payloadOf(r)).toBe('same');
    }
    expect((await session.rpcManager.invoke(request('echo', '"same"'))).status).toBe('OKAY');
  });

  it("commits the method's changes with the adapter's session", async () => {
    await session.objRpc(request('addTo', '1'));
    expect(calc.version).toBe(1);
    await session.commit();
    expect(calc.version).toBe(2);
    expect(calc.total).toBe(11);
  });
});

describe('failures', () => {
  it('answers APP_ERROR with the type and message of what the method threw, without a stack, and rolls back', async () => {
    const r = await session.objRpc(request('failAfterChange', '"no way"'));
    expect(r.status).toBe('APP_ERROR');
    const text = decoder.decode(r.payload);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(body).toEqual({ error_type: 'RangeError', error_message: 'no way' });
    expect(text).not.toMatch(/\bat\s/);
    expect(text).not.toContain('.ts');
    expect(text).not.toContain('stack');
    expect(calc.total).toBe(10);
    expect([...calc.log]).toEqual([]);
  });

  it('reports a thrown non-Error as an Error with its text', async () => {
    const r = await session.objRpc(request('failWithString'));
    expect(r.status).toBe('APP_ERROR');
    expect(payloadOf(r)).toEqual({ error_type: 'Error', error_message: 'plain string failure' });
  });

  it('keeps the code of an OaasError the method threw', async () => {
    const r = await session.objRpc(request('failWithCode'));
    expect(r.status).toBe('APP_ERROR');
    expect(payloadOf(r)).toEqual({ error_type: 'InvalidArgumentError', error_message: 'amount: must be positive', code: 'OAAS_ERR_ARGUMENT_INVALID' });
  });

  it('answers SYSTEM_ERROR for a platform failure', async () => {
    const r = await session.objRpc(request('failWithStore'));
    expect(r.status).toBe('SYSTEM_ERROR');
    expect(payloadOf(r)).toMatchObject({ error_type: 'StoreError', code: 'OAAS_ERR_STORE_FAILED' });
  });

  it('answers INVALID_REQUEST with ObjectNotFoundError for an object that does not exist', async () => {
    const r = await session.objRpc(request('read', undefined, 'missing-1'));
    expect(r.status).toBe('INVALID_REQUEST');
    const body = payloadOf(r) as Record<string, unknown>;
    expect(body.error_type).toBe('ObjectNotFoundError');
    expect(body.code).toBe('OAAS_ERR_OBJECT_NOT_FOUND');
    expect(body.error_message).toContain(`${CLS}/0/missing-1`);
  });

  it('answers INVALID_REQUEST for a method that is not stateless when objectId is missing, without running it', async () => {
    for (const call of [session.objRpc, session.fnRpc]) {
      const r = await call.call(session, request('addTo', '1', null));
      expect(r.status).toBe('INVALID_REQUEST');
      const body = payloadOf(r) as Record<string, unknown>;
      expect(body.error_type).toBe('InvalidArgumentError');
      expect(body.code).toBe('OAAS_ERR_ARGUMENT_INVALID');
    }
    expect(calc.total).toBe(10);
  });

  it('answers SYSTEM_ERROR after shutdown', async () => {
    await shutdown();
    const r = await session.objRpc(request('read'));
    expect(r.status).toBe('SYSTEM_ERROR');
    expect(payloadOf(r)).toMatchObject({ error_type: 'ShutdownError', code: 'OAAS_ERR_RUNTIME_SHUT_DOWN' });
  });
});
