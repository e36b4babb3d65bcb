import type { Pool } from 'pg';
import { loadDriver } from '../optional-driver.js';

/** What a pool of the SDK's own is built from. */
export interface PoolSettings {
  readonly url: string;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  /** 0: no timeout. */
  readonly statementTimeoutMs: number;
}

/**
 * Builds a pool of the SDK's own, loading `pg` only now (so installs that
 * never use PostgreSQL need not have it). `user` names the SDK part in
 * errors and in the server's `application_name`.
 */
export async function createPool(settings: PoolSettings, user: { readonly what: string; readonly applicationName: string }): Promise<Pool> {
  const { default: pg } = await loadDriver('pg', 'store', user.what, () => import('pg'));
  return new pg.Pool({
    connectionString: settings.url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs === 0 ? false : settings.statementTimeoutMs,
    fallback_application_name: user.applicationName,
    keepAlive: true,
  });
}
