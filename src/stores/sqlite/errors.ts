/**
 * How better-sqlite3's errors become the SDK's own, at the SQLite backend's boundary.
 */
import { OaasError, StoreError } from '../../errors.js';

/**
 * Turns whatever a better-sqlite3 call threw into a `StoreError`. A busy or
 * locked database (another process holds the write lock past
 * `busyTimeoutMs`) is transient: a retry may succeed. Errors the SDK raised
 * itself (conflicts, bad arguments) pass through unchanged.
 */
export function translateError(operation: string, error: unknown): Error {
  if (error instanceof OaasError) return error;
  const code = sqliteCode(error);
  const transient = code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreError(
    `sqlite ${operation} failed: ${reason}${code === undefined ? '' : ` (${code})`}`,
    { transient },
    { cause: error },
  );
}

function sqliteCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}
