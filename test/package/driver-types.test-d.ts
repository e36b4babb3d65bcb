import type { Redis } from 'ioredis';
import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import type { RedisCacheOptions } from '../../src/stores/cache/redis-cache.js';
import type { PostgresPool, PostgresStoreOptions } from '../../src/stores/postgres/postgres-store.js';
import type { RedisClient, RedisStoreOptions } from '../../src/stores/redis/redis-store.js';

// The public options name the SDK's own driver types, so their declarations need neither @types/pg nor ioredis;
// the drivers' real clients must still fit them (`npm run typecheck` compiles these).
describe('driver option types', () => {
  it('accept a pg Pool and an ioredis client', () => {
    expectTypeOf<pg.Pool>().toExtend<PostgresPool>();
    expectTypeOf<pg.Pool>().toExtend<NonNullable<PostgresStoreOptions['pool']>>();
    expectTypeOf<Redis>().toExtend<RedisClient>();
    expectTypeOf<Redis>().toExtend<NonNullable<RedisStoreOptions['client']>>();
    expectTypeOf<Redis>().toExtend<NonNullable<RedisCacheOptions['client']>>();
    expectTypeOf<{ connect(): Promise<void> }>().not.toExtend<PostgresPool>();
  });
});
