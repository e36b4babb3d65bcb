/**
 * MikroORM 6 on the better-sqlite3 this package already depends on.
 *
 * `@mikro-orm/better-sqlite` pins its own better-sqlite3 (11.x), which would
 * add a second native build to every install. Its driver is three one-line
 * classes over `@mikro-orm/knex`, so they are repeated here, and knex loads
 * the project's better-sqlite3 (12.x). The entity is an `EntitySchema`: no
 * decorators, no reflect-metadata coupling.
 */
import {
  AbstractSqlDriver,
  BaseSqliteConnection,
  BaseSqlitePlatform,
  BaseSqliteSchemaHelper,
  BetterSqliteKnexDialect,
  EntitySchema,
  MikroORM,
  type Configuration,
  type SchemaHelper,
} from '@mikro-orm/knex';
import { applyPragmas } from './sqlite.js';

class BetterSqliteConnection extends BaseSqliteConnection {
  override createKnex(): void {
    // knex takes a dialect class as its client; MikroORM's typing only names the string form.
    this.client = this.createKnexClient(BetterSqliteKnexDialect as unknown as string);
    this.connected = true;
  }
}

class BetterSqliteSchemaHelper extends BaseSqliteSchemaHelper {}

// The package's platform also swaps in sqlstring-sqlite for inlined values; the bench binds every value, so the default escaper is never used.
class BetterSqlitePlatform extends BaseSqlitePlatform {
  protected override readonly schemaHelper: SchemaHelper = new BetterSqliteSchemaHelper(this);
}

export class BetterSqliteDriver extends AbstractSqlDriver<BetterSqliteConnection> {
  constructor(config: Configuration) {
    super(config, new BetterSqlitePlatform(), BetterSqliteConnection, ['knex', 'better-sqlite3']);
  }
}

/** The bench's counter as a MikroORM entity: same three fields, same method. */
export class MoCounter {
  id!: string;
  count = 0;
  name = '';
  updatedAt = 0;

  async increment(by = 1): Promise<number> {
    this.count += by;
    return this.count;
  }
}

export const MoCounterSchema = new EntitySchema<MoCounter>({
  class: MoCounter,
  tableName: 'mo_counter',
  properties: {
    id: { type: 'string', primary: true },
    count: { type: 'number' },
    name: { type: 'string' },
    updatedAt: { type: 'number' },
  },
});

/** Opens MikroORM on a new SQLite file with the run's pragmas and creates the table. */
export async function openMikroOrm(path: string): Promise<MikroORM<BetterSqliteDriver>> {
  const orm = await MikroORM.init<BetterSqliteDriver>({
    driver: BetterSqliteDriver,
    dbName: path,
    entities: [MoCounterSchema],
    discovery: { disableDynamicFileAccess: true },
    allowGlobalContext: true,
    debug: false,
    pool: {
      afterCreate: (connection: { pragma(source: string): unknown }, done: (error: Error | null, connection: unknown) => void) => {
        applyPragmas(connection);
        done(null, connection);
      },
    },
  });
  await orm.schema.createSchema();
  return orm;
}

/** The pragmas MikroORM's connection actually runs with (to print next to the results). */
export async function mikroPragmas(orm: MikroORM<BetterSqliteDriver>): Promise<string> {
  const journal = await orm.em.fork().execute<{ journal_mode: string }[]>('pragma journal_mode');
  const sync = await orm.em.fork().execute<{ synchronous: number }[]>('pragma synchronous');
  return `journal_mode=${journal[0]?.journal_mode ?? '?'} synchronous=${String(sync[0]?.synchronous ?? '?')}`;
}
