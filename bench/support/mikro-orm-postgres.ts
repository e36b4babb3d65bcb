/**
 * MikroORM 6 on PostgreSQL (`@mikro-orm/postgresql`), with the same
 * `EntitySchema` as the SQLite baseline, so both scenarios compare the SDK
 * with the same entity.
 */
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { MoCounterSchema } from './mikro-orm.js';

/** Opens MikroORM on the database `url` (a fresh one) and creates its table. */
export async function openMikroOrmPostgres(url: string): Promise<MikroORM> {
  const orm = await MikroORM.init({
    driver: PostgreSqlDriver,
    clientUrl: url,
    entities: [MoCounterSchema],
    discovery: { disableDynamicFileAccess: true },
    allowGlobalContext: true,
    debug: false,
    pool: { min: 1, max: 2 },
  });
  await orm.schema.createSchema();
  return orm;
}
