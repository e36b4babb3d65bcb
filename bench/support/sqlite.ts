/**
 * One set of SQLite file settings for every contender (the SDK's store,
 * MikroORM and the raw driver), so that only the code on top differs.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Synchronous = 'full' | 'normal';

/** The settings of this run, printed with every result. */
export const sqliteSettings: { readonly journalMode: 'wal'; readonly synchronous: Synchronous } = {
  journalMode: 'wal',
  synchronous: process.env.BENCH_SQLITE_SYNCHRONOUS === 'full' ? 'full' : 'normal',
};

const root = mkdtempSync(join(tmpdir(), 'oaas-bench-'));

/** A path for a new database file in this run's temporary folder. */
export function dbPath(name: string): string {
  return join(root, `${name}.db`);
}

/** The SDK store spec for a new database file, at the run's `synchronous` setting unless one is given. */
export function sdkStoreSpec(name: string, synchronous: Synchronous = sqliteSettings.synchronous): string {
  return `sqlite:${dbPath(name)}?synchronous=${synchronous}`;
}

/** Applies the run's settings to a raw connection (the SDK's store applies the same ones itself). */
export function applyPragmas(db: { pragma(source: string): unknown }): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${sqliteSettings.synchronous.toUpperCase()}`);
  db.pragma('foreign_keys = ON');
}

/** A raw better-sqlite3 connection with the run's settings. */
export function openRaw(path: string): Database.Database {
  const db = new Database(path);
  applyPragmas(db);
  return db;
}

/** The SQLite library version better-sqlite3 was built with. */
export function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return db.prepare<[], string>('select sqlite_version()').pluck().get() ?? 'unknown';
  } finally {
    db.close();
  }
}

/** Removes this run's database files. */
export function removeDatabases(): void {
  rmSync(root, { recursive: true, force: true });
}
