// The package document made deployable on Oparaca (`deploy`): provision_config, HTTP_PORT, deployments with
// their ODGM collections, and the required fields of the platform's package model (`OPackage`) checked.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseCliArgs } from '../../src/cli/args.js';
import { InvalidArgumentError, OaasObject, method, service } from '../../src/index.js';
import { checkOparacaPackage } from '../../src/package/oparaca-deploy.js';
import { buildPackageDocument, exportPackage, type PackageDocument } from '../../src/package/package-export.js';
import { TsChild } from '../support/child.js';

@service('Vault', { package: 'deploybank' })
class Vault extends OaasObject {
  gold = 0;

  @method()
  async store(amount: number): Promise<number> {
    this.gold += amount;
    return this.gold;
  }

  @method({ stateless: true })
  async rate(): Promise<number> {
    return 2;
  }
}

@service('Teller', { package: 'deploybank' })
class Teller extends OaasObject {
  @method()
  async greet(): Promise<string> {
    return 'hi';
  }
}

@service('Stranger', { package: 'elsewhere' })
class Stranger extends OaasObject {
  @method()
  async wave(): Promise<void> {}
}

const classes = [Vault, Teller];
const image = 'registry.example.com/deploybank:1.0.0';

/** The error a call throws, for its name and field. */
function failure(run: () => unknown): { name?: string; argument?: string; message?: string } {
  try {
    run();
  } catch (error) {
    return error as { name: string; argument: string; message: string };
  }
  throw new Error('expected a failure');
}

describe('buildPackageDocument with deploy', () => {
  it('provisions every function with the image, its port, HTTP/2, and HTTP_PORT in its config', () => {
    const doc = buildPackageDocument({ classes, deploy: { image } });
    expect(doc.functions).toEqual(
      ['Vault.store', 'Vault.rate', 'Teller.greet'].map((key) => ({
        key,
        function_type: 'CUSTOM',
        description: `${key} of deploybank`,
        provision_config: { container_image: image, port: 8080, need_http2: true },
        config: { HTTP_PORT: '8080' },
      })),
    );
    expect(doc).not.toHaveProperty('deployments');
    const other = buildPackageDocument({ classes, deploy: { image, port: 9000 } });
    expect(other.functions[0]).toMatchObject({ provision_config: { port: 9000 }, config: { HTTP_PORT: '9000' } });
  });

  it('keeps the document as it was without deploy', () => {
    const doc = buildPackageDocument({ classes });
    expect(doc.functions[0]).toEqual({ key: 'Vault.store', function_type: 'CUSTOM', description: 'Vault.store of deploybank', config: {} });
    expect(Object.keys(doc)).toEqual(['name', 'version', 'metadata', 'classes', 'functions']);
  });

  it('adds one deployment per class, its ODGM collection named as invocations name the class', () => {
    const doc = buildPackageDocument({ classes, deploy: { image, deployments: true } });
    expect(doc.deployments).toEqual([
      { key: 'Vault', package_name: 'deploybank', class_key: 'Vault', odgm: { collections: ['deploybank.Vault'] } },
      { key: 'Teller', package_name: 'deploybank', class_key: 'Teller', odgm: { collections: ['deploybank.Teller'] } },
    ]);
    const placed = buildPackageDocument({ classes: [Vault], deploy: { image, deployments: true, targetEnvs: ['oaas-1', 'oaas-2'], partitions: 4, replicas: 3 } });
    expect(placed.deployments).toEqual([
      { key: 'Vault', package_name: 'deploybank', class_key: 'Vault', target_envs: ['oaas-1', 'oaas-2'], odgm: { collections: ['deploybank.Vault'], partition_count: 4, replica_count: 3 } },
    ]);
  });

  it('writes YAML the platform reads: the fields of its own fixture, in full', () => {
    const doc = parse(exportPackage({ classes: [Vault], deploy: { image, deployments: true } })) as PackageDocument;
    expect(doc.functions[0]).toEqual({
      key: 'Vault.store',
      function_type: 'CUSTOM',
      description: 'Vault.store of deploybank',
      provision_config: { container_image: image, port: 8080, need_http2: true },
      config: { HTTP_PORT: '8080' },
    });
    expect(doc.deployments?.[0]?.odgm.collections).toEqual(['deploybank.Vault']);
  });

  it('requires an image, and refuses malformed deploy options naming them', () => {
    expect(failure(() => buildPackageDocument({ classes, deploy: {} as never }))).toMatchObject({
      name: 'InvalidArgumentError',
      argument: 'deploy.image',
      message: 'deploy.image: the container image is required to deploy on Oparaca (functions[].provision_config.container_image)',
    });
    expect(failure(() => buildPackageDocument({ classes, deploy: { image: 'has space' } }))).toMatchObject({ argument: 'deploy.image' });
    expect(failure(() => buildPackageDocument({ classes, deploy: { image: '' } }))).toMatchObject({ argument: 'deploy.image' });
    expect(failure(() => buildPackageDocument({ classes, deploy: { image, port: 0 } }))).toMatchObject({ argument: 'deploy.port' });
    expect(failure(() => buildPackageDocument({ classes, deploy: { image, port: 70000 } }))).toMatchObject({ argument: 'deploy.port' });
    expect(failure(() => buildPackageDocument({ classes, deploy: { image, partitions: 0 } }))).toMatchObject({ argument: 'deploy.partitions' });
    expect(failure(() => buildPackageDocument({ classes, deploy: { image, replicas: 1.5 } }))).toMatchObject({ argument: 'deploy.replicas' });
    expect(failure(() => buildPackageDocument({ classes, deploy: { image, targetEnvs: [''] } }))).toMatchObject({ argument: 'deploy.targetEnvs' });
    expect(failure(() => buildPackageDocument({ classes, deploy: 'yes' as never }))).toMatchObject({ argument: 'deploy' });
  });

  it('refuses a package name other than the classes\' package, which invocations would not find', () => {
    expect(buildPackageDocument({ classes, name: 'renamed' }).name).toBe('renamed');
    expect(failure(() => buildPackageDocument({ classes, name: 'renamed', deploy: { image } }))).toMatchObject({
      argument: 'name',
      message: "name: to deploy, the package must be named after the classes' package: the platform would invoke renamed.Vault, which is deploybank.Vault here",
    });
    expect(failure(() => buildPackageDocument({ classes: [Vault, Stranger], name: 'deploybank', deploy: { image } }))).toMatchObject({ argument: 'name' });
  });
});

describe('checkOparacaPackage', () => {
  const valid = (): PackageDocument => buildPackageDocument({ classes, deploy: { image, deployments: true } });
  /** A copy of the valid document with one change. */
  const broken = (edit: (doc: { -readonly [K in keyof PackageDocument]: unknown } & Record<string, unknown>) => void) => {
    const doc = structuredClone(valid()) as unknown as { -readonly [K in keyof PackageDocument]: unknown } & Record<string, unknown>;
    edit(doc);
    return failure(() => checkOparacaPackage(doc as unknown as PackageDocument));
  };
  type Doc = { functions: Record<string, unknown>[]; classes: { key: string; function_bindings: Record<string, unknown>[] }[]; deployments: Record<string, unknown>[] };

  it('passes what the builder makes', () => {
    expect(() => checkOparacaPackage(valid())).not.toThrow();
    expect(() => checkOparacaPackage(buildPackageDocument({ classes }))).not.toThrow();
  });

  it('names the field the platform would refuse', () => {
    const cases: [(doc: Doc & { name: string }) => void, string][] = [
      [(doc) => (doc.name = ''), 'name'],
      [(doc) => (doc.name = 'two words'), 'name'],
      [(doc) => delete (doc.functions[1]!.provision_config as Record<string, unknown>).container_image, 'functions[1].provision_config.container_image'],
      [(doc) => ((doc.functions[0]!.provision_config as Record<string, unknown>).port = 0), 'functions[0].provision_config.port'],
      [(doc) => (doc.functions[2]!.key = ''), 'functions[2].key'],
      [(doc) => (doc.functions[2]!.key = 'Vault.store'), 'functions[2].key'],
      [(doc) => (doc.functions[0]!.function_type = 'SERVERLESS'), 'functions[0].function_type'],
      [(doc) => (doc.classes[1]!.key = ''), 'classes[1].key'],
      [(doc) => (doc.classes[1]!.key = 'Vault'), 'classes[1].key'],
      [(doc) => (doc.classes[0]!.function_bindings[1]!.name = ''), 'classes[0].function_bindings[1].name'],
      [(doc) => (doc.classes[0]!.function_bindings[1]!.function_key = 'Vault.gone'), 'classes[0].function_bindings[1].function_key'],
      [(doc) => (doc.classes[0]!.function_bindings[0]!.access_modifier = 'OPEN'), 'classes[0].function_bindings[0].access_modifier'],
      [(doc) => (doc.deployments[0]!.key = ''), 'deployments[0].key'],
      [(doc) => (doc.deployments[1]!.package_name = 'other'), 'deployments[1].package_name'],
      [(doc) => (doc.deployments[1]!.class_key = 'Clerk'), 'deployments[1].class_key'],
    ];
    for (const [edit, field] of cases) {
      const error = broken(edit as never);
      expect(error, field).toBeInstanceOf(InvalidArgumentError);
      expect(error.argument, field).toBe(field);
    }
  });
});

describe('oaas pkg --image', () => {
  const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

  it('prints the deployable document of the module', async () => {
    const child = new TsChild(cli, ['pkg', 'test/cli/fixtures/services.ts', '--format', 'json', '--image', image, '--function-port', '9090', '--deploy', '--env', 'oaas-1', '--partitions', '2'], { OAAS_MOCK_MODE: '1' });
    const [code] = await child.exit(30_000);
    expect(child.stderr).toBe('');
    expect(code).toBe(0);
    const doc = JSON.parse(child.stdout) as PackageDocument;
    expect(doc.functions.map((f) => f.provision_config)).toEqual(Array(3).fill({ container_image: image, port: 9090, need_http2: true }));
    expect(doc.functions.map((f) => f.config)).toEqual(Array(3).fill({ HTTP_PORT: '9090' }));
    expect(doc.deployments).toEqual([
      { key: 'Cart', package_name: 'shop', class_key: 'Cart', target_envs: ['oaas-1'], odgm: { collections: ['shop.Cart'], partition_count: 2 } },
      { key: 'Inventory', package_name: 'shop', class_key: 'Inventory', target_envs: ['oaas-1'], odgm: { collections: ['shop.Inventory'], partition_count: 2 } },
    ]);
  }, 60_000);

  it('exits 1 naming the package name when it does not match the classes', async () => {
    const child = new TsChild(cli, ['pkg', 'test/cli/fixtures/services.ts', '--name', 'store', '--image', image], { OAAS_MOCK_MODE: '1' });
    const [code] = await child.exit(30_000);
    expect(code).toBe(1);
    expect(child.stderr).toContain("oaas pkg: name: to deploy, the package must be named after the classes' package");
  }, 60_000);

  it('parses the deployment flags, and refuses those that need --image or --deploy', () => {
    expect(parseCliArgs(['pkg', 'm.js', '--image', 'i:1', '--deploy', '--env', 'a', '--env', 'b', '--replicas', '3'])).toMatchObject({
      command: 'pkg',
      deploy: { image: 'i:1', port: undefined, deployments: true, targetEnvs: ['a', 'b'], partitions: undefined, replicas: 3 },
    });
    expect(parseCliArgs(['pkg', 'm.js'])).toMatchObject({ deploy: undefined });
    const cases: [string[], RegExp][] = [
      [['pkg', 'm.js', '--deploy'], /--deploy needs --image/],
      [['pkg', 'm.js', '--function-port', '80'], /--function-port needs --image/],
      [['pkg', 'm.js', '--image', 'i', '--env', 'a'], /--env needs --deploy/],
      [['pkg', 'm.js', '--image', ''], /--image must not be empty/],
      [['pkg', 'm.js', '--image', 'i', '--function-port', '0x1'], /--function-port must be a port number/],
      [['pkg', 'm.js', '--image', 'i', '--deploy', '--partitions', '0'], /--partitions must be a positive integer/],
      [['pkg', 'm.js', '--image', 'i', '--deploy', '--env', ''], /--env must not be empty/],
    ];
    for (const [argv, message] of cases) {
      const parsed = parseCliArgs(argv);
      expect(parsed.command, argv.join(' ')).toBe('usage-error');
      expect(parsed.command === 'usage-error' ? parsed.message : '', argv.join(' ')).toMatch(message);
    }
  });
});
