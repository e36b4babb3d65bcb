/**
 * Loading the server drivers, `pg` and `ioredis`. They are optional peer
 * dependencies: an application installs only the one its backend needs, so
 * a missing one must name the package to install instead of surfacing as a
 * bare module-resolution error from deep inside the SDK.
 */
import { ConfigurationError } from '../errors.js';

/**
 * Runs `load`, the caller's own `import()` of `pkg` (written out there, so
 * bundlers see a literal specifier), and turns "`pkg` is not installed" into
 * a `ConfigurationError` that says how to install it. Any other failure,
 * such as a package the driver itself depends on being missing, passes
 * through unchanged.
 *
 * @param field the setting the error names, e.g. `store` or `cache`.
 * @param user what needs the driver, e.g. `the postgres store`.
 * @example
 * const { default: pg } = await loadDriver('pg', 'store', 'the postgres store', () => import('pg'));
 */
export async function loadDriver<T>(pkg: string, field: string, user: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error, pkg)) throw error;
    throw new ConfigurationError(field, `${user} needs the "${pkg}" package, which is not installed; add it to the application: npm install ${pkg}`, { cause: error });
  }
}

/**
 * True when `error` is Node's report that the package `pkg` itself cannot be
 * found ("Cannot find package 'pg' imported from ..."); the quotes keep
 * `pg-types` or `pg-pool` from matching `pg`.
 */
function isMissingPackage(error: unknown, pkg: string): boolean {
  if (!(error instanceof Error)) return false;
  const { code } = error as { code?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return error.message.includes(`package '${pkg}'`) || error.message.includes(`module '${pkg}'`);
}
