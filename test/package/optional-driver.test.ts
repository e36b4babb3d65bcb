import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { loadDriver } from '../../src/stores/optional-driver.js';

// Real imports of packages that are not installed: Node's own resolution error, not a stand-in.
const absent = 'oaas-test-absent-driver';

describe('loadDriver', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oaas-driver-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns what the import returns when the package is there', async () => {
    const { default: yaml } = await loadDriver('yaml', 'store', 'the test store', () => import('yaml'));
    expect(yaml.stringify({ a: 1 })).toBe('a: 1\n');
  });

  it('turns a missing driver package into a ConfigurationError naming the install command', async () => {
    const attempt = loadDriver(absent, 'store', 'the postgres store', () => import(absent));
    await expect(attempt).rejects.toBeInstanceOf(ConfigurationError);
    const error = (await attempt.catch((e: unknown) => e)) as ConfigurationError;
    expect(error.code).toBe('OAAS_ERR_CONFIG_INVALID');
    expect(error.field).toBe('store');
    expect(error.message).toBe(`store: the postgres store needs the "${absent}" package, which is not installed; add it to the application: npm install ${absent}`);
    expect((error.cause as { code?: string }).code).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('passes through a driver that is installed but cannot load a package of its own', async () => {
    // The driver is there; what is missing is its dependency, whose name starts like the driver's.
    const driver = join(dir, 'driver.mjs');
    await writeFile(driver, `import '${absent}-types';\nexport default 1;\n`);
    const error = await loadDriver(absent, 'store', 'the test store', () => import(pathToFileURL(driver).href) as Promise<unknown>).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ConfigurationError);
    expect((error as { code?: string }).code).toBe('ERR_MODULE_NOT_FOUND');
    expect((error as Error).message).toContain(`'${absent}-types'`);
  });

  it('passes through any other failure of the import', async () => {
    const driver = join(dir, 'broken.mjs');
    await writeFile(driver, 'throw new RangeError("broken driver");\n');
    const error = await loadDriver(absent, 'store', 'the test store', () => import(pathToFileURL(driver).href) as Promise<unknown>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
  });
});
