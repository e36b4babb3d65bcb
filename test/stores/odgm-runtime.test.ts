/**
 * The ODGM store under the runtime: `configureOaas({ store: 'odgm://...' })`,
 * field keys lowercased as ODGM keeps them, what a commit of several objects
 * gets, and the store ODGM_SERVICE picks on the platform.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import {
  ConfigurationError,
  OaasObject,
  RegistrationError,
  StoreError,
  commitAll,
  configureOaas,
  currentSession,
  field,
  getAutoSessionManager,
  healthCheck,
  method,
  runInSession,
  service,
  shutdown,
} from '../../src/index.js';
import { OdgmStore } from '../../src/stores/odgm/odgm-store.js';
import { parseStoreSpec } from '../../src/stores/resolve-store.js';
import { startOdgmDataService, type OdgmDataService } from '../support/odgm-data-service.js';
import { rejection } from '../support/promises.js';

@service('Journal', { package: 'odgm' })
class Journal extends OaasObject {
  historyLog: string[] = [];
  @field({ key: 'LastEntry' }) last = '';
  pageCount = 0;

  @method()
  async write(line: string): Promise<number> {
    this.historyLog.push(line);
    this.last = line;
    this.pageCount += 1;
    return this.pageCount;
  }
}

/** Two fields that are one key once lowercased. */
@service('Shouting', { package: 'odgm' })
class Shouting extends OaasObject {
  name = 'quiet';
  NAME = 'LOUD';
}

/** A field ODGM cannot keep under any case: `$` is not in its alphabet. */
@service('Priced', { package: 'odgm' })
class Priced extends OaasObject {
  $amount = 0;
}

/** No state: stored as an object with no entries, which ODGM keeps at version 0. */
@service('Marker', { package: 'odgm' })
class Marker extends OaasObject {
  @method()
  async ping(): Promise<string> {
    return 'pong';
  }
}

const entryText = (entries: Map<string, Buffer> | undefined, name: string): unknown => {
  const value = entries?.get(name);
  return value === undefined ? undefined : JSON.parse(value.toString('utf8'));
};

describe('the ODGM store under the runtime', () => {
  let service: OdgmDataService;

  beforeEach(async () => {
    service = await startOdgmDataService();
  });

  afterEach(async () => {
    await shutdown({ timeoutMs: 1000 }).catch(() => undefined);
    await service.stop();
  });

  it('stores fields under lowercased keys and loads them back in a new runtime', async () => {
    await configureOaas({ store: `odgm://${service.address}`, autoCommit: false, logLevel: 'silent' });
    const journal = Journal.create({}, { id: 'j-1' });
    await journal.write('first');
    await journal.write('second');
    await commitAll();
    const held = service.object('odgm.Journal', 0, 'j-1');
    expect([...(held?.entries.keys() ?? [])].sort()).toEqual(['historylog', 'lastentry', 'pagecount']);
    expect(entryText(held?.entries, 'historylog')).toEqual(['first', 'second']);
    expect(entryText(held?.entries, 'lastentry')).toBe('second');
    expect(held?.version).toBe(1);

    await configureOaas({ store: `odgm://${service.address}`, autoCommit: false, logLevel: 'silent' });
    const again = await Journal.load('j-1');
    expect(again).not.toBe(journal);
    expect({ historyLog: again.historyLog, last: again.last, pageCount: again.pageCount, version: again.version }).toEqual({
      historyLog: ['first', 'second'],
      last: 'second',
      pageCount: 2,
      version: 1,
    });
    await again.write('third');
    await commitAll();
    expect(service.object('odgm.Journal', 0, 'j-1')?.version).toBe(2);
    expect(entryText(service.object('odgm.Journal', 0, 'j-1')?.entries, 'historylog')).toEqual(['first', 'second', 'third']);
  });

  it('keeps an object of a class with no fields at version 0, loads it back and deletes it', async () => {
    await configureOaas({ store: `odgm://${service.address}`, autoCommit: false, logLevel: 'silent' });
    Marker.create({}, { id: 'm-1' });
    await commitAll();
    expect(service.object('odgm.Marker', 0, 'm-1')).toEqual({ version: 0, tombstone: false, entries: new Map() });
    await configureOaas({ store: `odgm://${service.address}`, autoCommit: false, logLevel: 'silent' });
    const marker = await Marker.load('m-1');
    expect([marker.version, await marker.ping()]).toEqual([0, 'pong']);
    await marker.delete();
    await commitAll();
    expect(service.object('odgm.Marker', 0, 'm-1')).toMatchObject({ tombstone: true });
    await expect(Marker.load('m-1')).rejects.toMatchObject({ code: 'OAAS_ERR_OBJECT_NOT_FOUND' });
  });

  it('lowercases keys for an OdgmStore given as the store object too', async () => {
    await configureOaas({ store: new OdgmStore({ address: service.address }), autoCommit: false, logLevel: 'silent' });
    await Journal.create({}, { id: 'j-2' }).write('only');
    await commitAll();
    expect([...(service.object('odgm.Journal', 0, 'j-2')?.entries.keys() ?? [])].sort()).toEqual(['historylog', 'lastentry', 'pagecount']);
  });

  it('refuses a class whose field keys collide once lowercased, or that ODGM cannot keep, with a RegistrationError', async () => {
    await configureOaas({ store: `odgm://${service.address}`, autoCommit: false, logLevel: 'silent' });
    expect(() => Shouting.create({}, { id: 's-1' })).toThrow(RegistrationError);
    expect(() => Shouting.create({}, { id: 's-1' })).toThrow(/odgm\.Shouting: fields name and NAME are both stored as name on the odgm store; give one of them another key with @field\(\{ key \}\)/);
    expect(() => Priced.create({}, { id: 'p-1' })).toThrow(/odgm\.Priced: field \$amount is stored as \$amount, which the odgm store cannot keep: ODGM accepts only/);
    // The same classes are fine on a store that keeps keys as given.
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    const shouting = Shouting.create({}, { id: 's-1' });
    expect([shouting.name, shouting.NAME]).toEqual(['quiet', 'LOUD']);
    expect(Priced.create({}, { id: 'p-1' }).$amount).toBe(0);
    await commitAll();
  });

  it('refuses a session that changed several objects, writing none of them; one session per object commits', async () => {
    await configureOaas({ store: `odgm://${service.address}`, autoCommit: false, logLevel: 'silent' });
    const error = await rejection(
      runInSession(async () => {
        await Journal.create({}, { id: 'j-a' }).write('a');
        await Journal.create({}, { id: 'j-b' }).write('b');
        await currentSession().commit();
      }),
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).transient).toBe(false);
    expect((error as Error).message).toMatch(/a batch of 2 objects \(odgm\.Journal\/0\/j-a, odgm\.Journal\/0\/j-b\) cannot be atomic on ODGM/);
    expect(service.object('odgm.Journal', 0, 'j-a')).toBeUndefined();
    expect(service.object('odgm.Journal', 0, 'j-b')).toBeUndefined();
    // Their changes are still pending; committed one object at a time, they are written.
    const runtime = getAutoSessionManager();
    const [a, b] = await Promise.all([Journal.load('j-a'), Journal.load('j-b')]);
    await runtime.commitObjects([a]);
    await runtime.commitObjects([b]);
    expect(service.object('odgm.Journal', 0, 'j-a')?.version).toBe(1);
    expect(service.object('odgm.Journal', 0, 'j-b')?.version).toBe(1);

    await Promise.all(['j-c', 'j-d'].map((id) => runInSession(async () => {
      await Journal.create({}, { id }).write(id);
      await currentSession().commit();
    })));
    expect(service.object('odgm.Journal', 0, 'j-c')?.version).toBe(1);
    expect(service.object('odgm.Journal', 0, 'j-d')?.version).toBe(1);
  });
});

describe('health on the ODGM store', () => {
  afterEach(async () => {
    await shutdown({ timeoutMs: 1000 }).catch(() => undefined);
  });

  it('reports ODGM reachable by a round trip that names no class, and unreachable once it stops', async () => {
    // Only the application's class is a collection, as in a deployment: a probe read of another class would fail.
    const narrow = await startOdgmDataService({ collections: { 'odgm.Journal': 1 } });
    try {
      await configureOaas({ store: `odgm://${narrow.address}`, autoCommit: false, logLevel: 'silent' });
      const up = await healthCheck();
      expect(up).toMatchObject({ ok: true, store: { name: 'odgm', reachable: true } });
      expect(narrow.calls.at(-1)).toBe('Capabilities');
      await narrow.stop();
      const down = await healthCheck();
      expect(down.ok).toBe(false);
      expect(down.store).toMatchObject({ reachable: false, error: expect.stringMatching(/^odgm ping failed: UNAVAILABLE/) as unknown });
    } finally {
      await narrow.stop();
    }
  });
});

describe('the odgm store spec and the platform default', () => {
  it('parses odgm://host:port and refuses anything else with a ConfigurationError', () => {
    expect(parseStoreSpec('odgm://counter-odgm-svc:8080')).toEqual({ kind: 'odgm', address: 'counter-odgm-svc:8080' });
    expect(parseStoreSpec(' odgm://[::1]:50051 ')).toEqual({ kind: 'odgm', address: '[::1]:50051' });
    for (const spec of ['odgm://', 'odgm://svc', 'odgm://svc:0', 'odgm://svc:8080/x', 'odgm://svc:8080?tls=1', 'odgm://user:secret@svc:8080']) {
      let error: unknown;
      try {
        parseStoreSpec(spec);
      } catch (caught) {
        error = caught;
      }
      expect(error, spec).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(/^store: malformed odgm store.*expected odgm:\/\/<host>:<port>$/);
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('uses the ODGM that ODGM_SERVICE names when no store is configured, as on the platform', () => {
    expect(resolveConfig({}, { ODGM_SERVICE: 'counter-odgm-svc:8080', ODGM_ENABLED: 'true' }).store).toEqual({ kind: 'odgm', address: 'counter-odgm-svc:8080' });
    expect(resolveConfig({}, { ODGM_SERVICE: ' counter-odgm-svc:8080 ' }).store).toEqual({ kind: 'odgm', address: 'counter-odgm-svc:8080' });
  });

  it('lets the store option, OAAS_STORE, mockMode and ODGM_ENABLED=false win over ODGM_SERVICE', () => {
    const env = { ODGM_SERVICE: 'counter-odgm-svc:8080' };
    expect(resolveConfig({ store: 'memory' }, env).store).toEqual({ kind: 'memory' });
    expect(resolveConfig({}, { ...env, OAAS_STORE: 'memory' }).store).toEqual({ kind: 'memory' });
    expect(resolveConfig({ mockMode: true }, env).store).toEqual({ kind: 'memory' });
    expect(resolveConfig({}, { ...env, ODGM_ENABLED: 'false' }).store).toMatchObject({ kind: 'sqlite' });
    expect(resolveConfig({}, {}).store).toMatchObject({ kind: 'sqlite' });
  });

  it('names the variable when ODGM_SERVICE or ODGM_ENABLED is malformed', () => {
    expect(() => resolveConfig({}, { ODGM_SERVICE: 'http://counter-odgm-svc:8080' })).toThrow(/^store \(ODGM_SERVICE\): malformed odgm store "odgm:\/\/http:\/\/counter-odgm-svc:8080"/);
    expect(() => resolveConfig({}, { ODGM_SERVICE: 'svc:8080', ODGM_ENABLED: 'maybe' })).toThrow(/^store \(ODGM_ENABLED\): expected true or false/);
  });
});
