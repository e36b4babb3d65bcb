// The typed client speaks the SDK's own dialect: pointed at an Oparaca-dialect server, it refuses rather than take a payload for a result.
import { beforeEach, describe, expect, it } from 'vitest';
import { RemoteError } from '../../../src/errors.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../../support/runtime.js';
import { inProcess, onSocket } from '../support.js';
import { TsCounter } from './services.js';

shutdownAfterEach();

describe('the typed client and an Oparaca-dialect server', () => {
  beforeEach(async () => {
    await freshRuntime({ store: tempSqlite() });
  });

  it('refuses a failing call’s 200 payload with a RemoteError that names the dialect, instead of returning it', async () => {
    const client = inProcess({ dialect: 'oparaca' }).client();
    const failing = client.ref(TsCounter, 'c1').failOnPurpose('boom');
    await expect(failing).rejects.toBeInstanceOf(RemoteError);
    await expect(failing).rejects.toThrow(/speaks the Oparaca gateway dialect/);
  });

  it('refuses every kind of call, on a socket too', async () => {
    const h = await onSocket({ dialect: 'oparaca' });
    try {
      const client = h.client();
      await expect(client.ref(TsCounter, 'c1').increment({ amount: 1 })).rejects.toThrow(/Oparaca gateway dialect/);
      await expect(client.get(TsCounter, 'c1')).rejects.toThrow(/Oparaca gateway dialect/);
      await expect(client.list(TsCounter)).rejects.toBeInstanceOf(RemoteError);
    } finally {
      await h.close();
    }
  });

  it('works as before against the SDK’s own dialect', async () => {
    const client = inProcess({ dialect: 'oaas' }).client();
    await client.put(TsCounter, 'c1', { entries: { count: 1 } });
    expect(await client.ref(TsCounter, 'c1').increment({ amount: 2 })).toBe(3);
  });
});
