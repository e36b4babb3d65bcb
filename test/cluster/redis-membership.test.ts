/**
 * The membership contract and fenced commits on a real, throw-away Redis
 * server, then what only Redis shows: its keys and their version.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { RedisMembership } from '../../src/stores/redis/membership.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { redisUnavailableReason, startRedis, type RedisServer } from '../servers/redis-server.js';
import { rejection } from '../support/promises.js';
import { describeMembershipContract } from './membership-contract.js';

const unavailable = await redisUnavailableReason();
if (unavailable !== undefined) console.log(`redis membership suites skipped: ${unavailable}`);

const freshPrefix = (): string => `t${randomBytes(6).toString('hex')}`;

describe.skipIf(unavailable !== undefined)('redis membership', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = (await startRedis())!;
  }, 60_000);
  afterAll(async () => {
    await server.destroy();
  });

  describeMembershipContract('redis', () => {
    const keyPrefix = freshPrefix();
    return Promise.resolve({
      membership: new RedisMembership({ url: server.url, keyPrefix }),
      store: new RedisStore({ url: server.url, keyPrefix }),
      another: () => new RedisMembership({ url: server.url, keyPrefix }),
    });
  });

  describe('layout', () => {
    it('keeps members and slots in two hashes under the prefix, with a layout version', async () => {
      const keyPrefix = freshPrefix();
      const membership = new RedisMembership({ url: server.url, keyPrefix });
      const inc = await membership.join({ id: 'a', url: 'http://a.test' }, 60_000);
      await membership.acquire('a', inc, [7], 60_000);
      await membership.release('a', inc, [7]);
      const admin = new Redis(server.url);
      try {
        expect(await admin.hget(`${keyPrefix}:meta`, 'cluster_schema_version')).toBe('1');
        expect(JSON.parse((await admin.hget(`${keyPrefix}:cluster:members`, 'a'))!)).toMatchObject({ url: 'http://a.test', incarnation: 1, active: true });
        expect(JSON.parse((await admin.hget(`${keyPrefix}:cluster:slots`, '7'))!)).toEqual({ epoch: 1 });
      } finally {
        admin.disconnect();
        await membership.close();
      }
    });

    it('refuses a layout of another version', async () => {
      const keyPrefix = freshPrefix();
      const admin = new Redis(server.url);
      await admin.hset(`${keyPrefix}:meta`, 'cluster_schema_version', '99');
      admin.disconnect();
      const membership = new RedisMembership({ url: server.url, keyPrefix });
      const error = await rejection(membership.members());
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).message).toMatch(/cluster schema version 99.*supports cluster schema version 1/);
      await membership.close();
    });

    it('refuses malformed options with InvalidArgumentError', () => {
      for (const options of [null, {}, { url: '' }, { url: server.url, keyPrefix: 'a{b' }, { url: server.url, keyPrefix: '' }, { url: server.url, commandTimeoutMs: 0 }, { url: server.url, client: 'x' }]) {
        expect(() => new RedisMembership(options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'OAAS_ERR_ARGUMENT_INVALID' }) as Error);
      }
    });
  });
});
