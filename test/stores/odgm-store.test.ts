/**
 * The ODGM store against a DataService that behaves as ODGM's does
 * (test/support/odgm-data-service.ts): the contract within the store's
 * limits, then what it does instead where ODGM cannot do what the contract
 * asks, and how failures are translated.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, OaasError, StoreError } from '../../src/errors.js';
import { OdgmStore } from '../../src/stores/odgm/odgm-store.js';
import type { ObjectKey, Store, WriteOp } from '../../src/stores/store.js';
import { startOdgmDataService, type OdgmDataService, type OdgmDataServiceOptions } from '../support/odgm-data-service.js';
import { rejection } from '../support/promises.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract(
  'odgm',
  async () => {
    const service = await startOdgmDataService();
    return { store: new OdgmStore({ address: service.address }), cleanup: () => service.stop() };
  },
  { oneObjectPerBatch: true, plainNames: true, platformVersions: true },
);

const key = (objectId: string, clsId = 'cls', partitionId = 0): ObjectKey => ({ clsId, partitionId, objectId });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const put = (k: ObjectKey, set: Record<string, string> = {}, more: { expectedVersion?: number; remove?: string[] } = {}): WriteOp => ({
  kind: 'put',
  key: k,
  set: new Map(Object.entries(set).map(([name, value]) => [name, bytes(value)])),
  ...more,
});
const texts = (entries: ReadonlyMap<string, Uint8Array> | undefined): Record<string, string> | undefined =>
  entries === undefined ? undefined : Object.fromEntries([...entries].map(([name, value]) => [name, new TextDecoder().decode(value)]));

function expectStoreError(error: unknown, transient: boolean, message?: RegExp): void {
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe('OAAS_ERR_STORE_FAILED');
  expect((error as StoreError).transient).toBe(transient);
  if (message !== undefined) expect((error as Error).message).toMatch(message);
}

describe('OdgmStore on a DataService', () => {
  let service: OdgmDataService;
  let store: OdgmStore;
  const stores: OdgmStore[] = [];
  const services: OdgmDataService[] = [];

  async function serve(options?: OdgmDataServiceOptions): Promise<OdgmDataService> {
    const started = await startOdgmDataService(options);
    services.push(started);
    return started;
  }

  function storeOn(address: string, options: { connectTimeoutMs?: number; callTimeoutMs?: number } = {}): OdgmStore {
    const made = new OdgmStore({ address, ...options });
    stores.push(made);
    return made;
  }

  beforeEach(async () => {
    service = await serve();
    store = storeOn(service.address);
    await store.open();
    service.calls.length = 0;
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(services.splice(0).map((s) => s.stop()));
  });

  describe('wake times', () => {
    it('has no due(), refuses a put that sets a wake time without calling ODGM, and takes one that sets none', async () => {
      expect((store as Store).due).toBeUndefined();
      const error = await rejection(store.apply([{ ...put(key('a'), { x: '1' }), wakeAt: 5 } as WriteOp]));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(/ops\[0\]\.wakeAt: the odgm store keeps no wake times/);
      expect(service.calls).toEqual([]);
      expect(await store.apply([{ ...put(key('a'), { x: '1' }), wakeAt: null } as WriteOp])).toEqual([1]);
    });
  });

  describe('one object per batch', () => {
    it('refuses a batch of several objects with a non-transient StoreError naming them, and sends nothing', async () => {
      const error = await rejection(store.apply([put(key('a'), { x: '1' }), put(key('b'), { y: '1' })]));
      expectStoreError(error, false, /a batch of 2 objects \(cls\/0\/a, cls\/0\/b\) cannot be atomic on ODGM/);
      expect(service.calls).toEqual([]);
      expect(await store.getMany([key('a'), key('b')])).toEqual([undefined, undefined]);
    });

    it('writes an SDK commit (entries set, version expected) with one BatchSetValues that ODGM checks', async () => {
      expect(await store.apply([put(key('a'), { n: '1' }, { expectedVersion: 0 })])).toEqual([1]);
      expect(await store.apply([put(key('a'), { n: '2' }, { expectedVersion: 1 })])).toEqual([2]);
      expect(service.calls).toEqual(['BatchSetValues', 'BatchSetValues']);
      expect(service.object('cls', 0, 'a')).toEqual({ version: 2, tombstone: false, entries: new Map([['n', Buffer.from('2')]]) });
    });

    it('reads the version (GetValue) before the entries (Get), and an object never written with one call', async () => {
      await store.apply([put(key('a'), { n: '1' }, { expectedVersion: 0 })]);
      service.calls.length = 0;
      expect((await store.get(key('a')))?.version).toBe(1);
      expect(service.calls).toEqual(['GetValue', 'Get']);
      service.calls.length = 0;
      expect(await store.get(key('never'))).toBeUndefined();
      expect(service.calls).toEqual(['GetValue']);
    });
  });

  describe("ODGM's versions", () => {
    it('keeps the version of a put that changes nothing, and reports it', async () => {
      await store.apply([put(key('a'), { x: '1' })]);
      expect(await store.apply([put(key('a'), {}, { expectedVersion: 1 })])).toEqual([1]);
      expect(await store.apply([put(key('a'))])).toEqual([1]);
      expect((await store.get(key('a')))?.version).toBe(1);
    });

    it('reports how far removing entries moved the version: one for the sets, one per entry that existed, one more when nothing is set', async () => {
      await store.apply([put(key('a'), { x: '1', y: '2', z: '3', w: '4' })]);
      expect(await store.apply([put(key('a'), { v: '5' }, { expectedVersion: 1, remove: ['x', 'y', 'never-there'] })])).toEqual([4]);
      expect(await store.apply([put(key('a'), {}, { expectedVersion: 4, remove: ['z'] })])).toEqual([6]);
      expect(await store.apply([put(key('a'), {}, { remove: ['never-there'] })])).toEqual([6]);
      const object = await store.get(key('a'));
      expect(object?.version).toBe(6);
      expect(texts(object?.entries)).toEqual({ w: '4', v: '5' });
      expect(service.object('cls', 0, 'a')?.version).toBe(6);
    });

    it('creates an object with no entries at version 0, which exists and is listed', async () => {
      expect(await store.apply([put(key('empty'), {}, { expectedVersion: 0 })])).toEqual([0]);
      expect(await store.get(key('empty'))).toEqual({ key: key('empty'), version: 0, entries: new Map() });
      expect((await store.list('cls', 0)).objects).toEqual([{ objectId: 'empty', version: 0, entryCount: 0 }]);
      // A put that only removes absent entries creates the object the same way.
      expect(await store.apply([put(key('other'), {}, { remove: ['x'] })])).toEqual([0]);
      expect((await store.get(key('other')))?.version).toBe(0);
    });

    it('refuses to create an object again under a deleted id, which ODGM keeps a tombstone for', async () => {
      await store.apply([put(key('a'), { x: '1' })]);
      expect(await store.apply([{ kind: 'delete', key: key('a'), expectedVersion: 1 }])).toEqual([0]);
      expect(service.object('cls', 0, 'a')).toMatchObject({ version: 2, tombstone: true });
      expect(await store.get(key('a'))).toBeUndefined();
      for (const op of [put(key('a'), { x: '2' }, { expectedVersion: 0 }), put(key('a'), { x: '2' }), put(key('a'), {}, { expectedVersion: 0 })]) {
        expectStoreError(await rejection(store.apply([op])), false, /cls\/0\/a was deleted, and ODGM keeps a tombstone/);
      }
      // A writer that still holds the object's last version sees it gone.
      expect((await rejection(store.apply([put(key('a'), { x: '2' }, { expectedVersion: 1 })])) as ConflictError).conflicts).toEqual([
        { ref: key('a'), expected: 1, actual: 0 },
      ]);
      expect(await store.get(key('a'))).toBeUndefined();
    });
  });

  describe('versioned writes', () => {
    it('turns an ABORTED write into a ConflictError with the version another writer left', async () => {
      const other = storeOn(service.address);
      await store.apply([put(key('a'), { n: '1' }, { expectedVersion: 0 })]);
      await other.apply([put(key('a'), { n: 'other' }, { expectedVersion: 1 })]);
      await other.apply([put(key('a'), { n: 'other again' }, { expectedVersion: 2 })]);
      service.calls.length = 0;
      const error = await rejection(store.apply([put(key('a'), { n: 'mine' }, { expectedVersion: 1 })]));
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).conflicts).toEqual([{ ref: key('a'), expected: 1, actual: 3 }]);
      // ODGM checked and refused the write; the store then read the version for the conflict.
      expect(service.calls).toEqual(['BatchSetValues', 'GetValue', 'Get']);
      expect(texts((await store.get(key('a')))?.entries)).toEqual({ n: 'other again' });
    });

    it('reports an expected creation over an existing object as a conflict with its version', async () => {
      await store.apply([put(key('a'), { n: '1' })]);
      const error = await rejection(store.apply([put(key('a'), { n: '2' }, { expectedVersion: 0 })]));
      expect((error as ConflictError).conflicts).toEqual([{ ref: key('a'), expected: 0, actual: 1 }]);
    });

    it('checks the version of a delete itself, since ODGM deletes unconditionally', async () => {
      await store.apply([put(key('a'), { n: '1' })]);
      await store.apply([put(key('a'), { n: '2' })]);
      const error = await rejection(store.apply([{ kind: 'delete', key: key('a'), expectedVersion: 1 }]));
      expect((error as ConflictError).conflicts).toEqual([{ ref: key('a'), expected: 1, actual: 2 }]);
      expect(service.calls).not.toContain('Delete');
      expect((await store.get(key('a')))?.version).toBe(2);
      expect(await store.apply([{ kind: 'delete', key: key('a'), expectedVersion: 2 }])).toEqual([0]);
      expect(await store.get(key('a'))).toBeUndefined();
    });
  });

  describe("ODGM's names", () => {
    it('refuses object ids and entry keys ODGM would change or refuse, before sending anything', async () => {
      const refused: [() => Promise<unknown>, string][] = [
        [() => store.get(key('Upper')), 'key'],
        [() => store.getMany([key('fine'), key('a b')]), 'keys'],
        [() => store.apply([put(key('Upper'), { x: '1' })]), 'ops'],
        [() => store.apply([put(key('a'), { historyLog: '1' })]), 'ops'],
        [() => store.apply([put(key('a'), { 'ключ': '1' })]), 'ops'],
        [() => store.apply([put(key('a'), {}, { remove: ['Gone'] })]), 'ops'],
        [() => store.apply([put(key('a'), { ['x'.repeat(161)]: '1' })]), 'ops'],
        [() => store.apply([{ kind: 'delete', key: key('A') }]), 'ops'],
      ];
      for (const [call, argument] of refused) {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as InvalidArgumentError).argument).toBe(argument);
      }
      expect((await rejection(store.apply([put(key('a'), { historyLog: '1' })])) as Error).message).toMatch(/ODGM lowercases it to "historylog"/);
      expect(service.calls).toEqual([]);
    });

    it('refuses partitions above 65535, which ODGM would read as another partition', async () => {
      for (const call of [() => store.get(key('a', 'cls', 65_536)), () => store.apply([put(key('a', 'cls', 70_000), { x: '1' })]), () => store.list('cls', 65_536)]) {
        expect(await rejection(call())).toBeInstanceOf(InvalidArgumentError);
      }
      expect(await store.apply([put(key('a', 'cls', 65_535), { x: '1' })])).toEqual([1]);
      expect(service.object('cls', 65_535, 'a')?.version).toBe(1);
    });
  });

  describe('errors at the boundary', () => {
    it('turns a stopped server into transient StoreErrors, and works again once it is back', async () => {
      await store.apply([put(key('a'), { n: '1' })]);
      await service.stop();
      const calls = [() => store.get(key('a')), () => store.getMany([key('a')]), () => store.apply([put(key('a'), { n: '2' }, { expectedVersion: 1 })]), () => store.list('cls', 0)];
      for (const call of calls) expectStoreError(await rejection(call()), true, /^odgm (get|getMany|apply|list) failed: UNAVAILABLE/);
      await service.start();
      let back: number | undefined;
      for (let attempt = 0; attempt < 50 && back === undefined; attempt += 1) {
        back = await store.get(key('a')).then(
          (object) => object?.version,
          async () => {
            await new Promise((resolve) => setTimeout(resolve, 100));
            return undefined;
          },
        );
      }
      expect(back).toBe(1);
    });

    it('fails open with a transient StoreError when nothing answers within connectTimeoutMs', async () => {
      const address = service.address;
      await service.stop();
      const started = performance.now();
      const error = await rejection(storeOn(address, { connectTimeoutMs: 300 }).open());
      expectStoreError(error, true, new RegExp(`odgm open failed: no connection to ${address} within 300 ms`));
      expect(performance.now() - started).toBeLessThan(5000);
    });

    it('refuses a DataService with string entry keys switched off at open', async () => {
      const off = await serve({ stringEntryKeys: false });
      expectStoreError(await rejection(storeOn(off.address).open()), false, /string entry keys switched off/);
    });

    it('says when ODGM holds no shard of a class, and when the address answers UNIMPLEMENTED', async () => {
      const narrow = await serve({ collections: { 'pkg.Counter': 1 } });
      const onNarrow = storeOn(narrow.address);
      expect(await onNarrow.apply([put(key('a', 'pkg.Counter'), { n: '1' })])).toEqual([1]);
      for (const call of [() => onNarrow.get(key('a', 'pkg.Other')), () => onNarrow.apply([put(key('a', 'pkg.Counter', 1), { n: '1' })]), () => onNarrow.list('pkg.Other', 0)]) {
        expectStoreError(await rejection(call()), false, /holds no shard of the class and partition asked \(NOT_FOUND: not found shard\)/);
      }
      const gateway = await serve({ without: ['GetValue', 'BatchSetValues'] });
      const onGateway = storeOn(gateway.address);
      for (const call of [() => onGateway.get(key('a')), () => onGateway.apply([put(key('a'), { n: '1' }, { expectedVersion: 0 })])]) {
        expectStoreError(await rejection(call()), false, /UNIMPLEMENTED.*point the store at ODGM's own DataService/);
      }
    });

    it('lets no gRPC error escape: every failure is an OaasError', async () => {
      const failures: unknown[] = [];
      await service.stop();
      for (const call of [() => store.get(key('a')), () => store.apply([put(key('a'), { n: '1' })]), () => store.list('cls', 0)]) failures.push(await rejection(call()));
      await store.close();
      failures.push(await rejection(store.get(key('a'))));
      expect(failures.every((failure) => failure instanceof OaasError)).toBe(true);
    });
  });

  describe('options', () => {
    it('refuses malformed options with InvalidArgumentError naming the option', () => {
      const bad: [unknown, string][] = [
        [null, 'options'],
        [{ address: 'http://svc:8080' }, 'options.address'],
        [{ address: 'svc' }, 'options.address'],
        [{ address: 'svc:0' }, 'options.address'],
        [{ address: 'svc:8080/data' }, 'options.address'],
        [{ address: 42 }, 'options.address'],
        [{ address: 'svc:8080', connectTimeoutMs: 0 }, 'options.connectTimeoutMs'],
        [{ address: 'svc:8080', callTimeoutMs: 1.5 }, 'options.callTimeoutMs'],
      ];
      for (const [options, argument] of bad) {
        let error: unknown;
        try {
          new OdgmStore(options as never);
        } catch (caught) {
          error = caught;
        }
        expect(error, JSON.stringify(options)).toBeInstanceOf(InvalidArgumentError);
        expect((error as InvalidArgumentError).argument).toBe(argument);
      }
    });

    it('takes its address from ODGM_SERVICE when none is given, and says so when neither is', () => {
      const saved = process.env.ODGM_SERVICE;
      try {
        process.env.ODGM_SERVICE = 'counter-odgm-svc:8080';
        expect(new OdgmStore().address).toBe('counter-odgm-svc:8080');
        expect(new OdgmStore({ address: '127.0.0.1:9' }).address).toBe('127.0.0.1:9');
        delete process.env.ODGM_SERVICE;
        expect(() => new OdgmStore()).toThrow(/options.address: must be the DataService's host:port \(or set ODGM_SERVICE\), got undefined/);
      } finally {
        if (saved === undefined) delete process.env.ODGM_SERVICE;
        else process.env.ODGM_SERVICE = saved;
      }
    });
  });
});
