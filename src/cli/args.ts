/**
 * The `oaas` command line, parsed into a command. Parsing never touches the
 * process: it returns what to run, or a usage error to print.
 */
import { parseArgs } from 'node:util';

/** The usage text; printed for `--help` and after every usage error. */
export const USAGE = `Usage:
  oaas serve <module> [--port N] [--host H] [--token T] [--grpc]
      Import <module> (a path, resolved against the working directory), which
      registers @service classes, and serve them over HTTP.
      --port   port to listen on; 0 picks a free one (default: HTTP_PORT, else 8080)
      --host   interface to bind (default: 127.0.0.1, this machine only)
      --token  require "Authorization: Bearer <token>" on every request
      --grpc   serve the Oparaca function runtime (gRPC oprc.OprcFunction)
               instead of HTTP, on the same port; no --token
  oaas pkg <module> [--format yaml|json] [--name N] [--version V] [--description D]
           [--image I [--function-port N] [--deploy] [--env E ...] [--partitions N] [--replicas N]]
      Import <module> and print its OaaS package document to stdout.
      --format         yaml (default) or json
      --name           package name (default: the package the classes share)
      --version        package version (default: 0.1.0)
      --description    metadata.description
      --image          container image that runs "oaas serve --grpc": adds what the
                       Oparaca package manager needs to deploy (provision_config)
      --function-port  the port that image serves (default: 8080)
      --deploy         add one deployment per class, with its ODGM collection
      --env            a target environment of the deployments (repeatable)
      --partitions     ODGM partitions per collection (default: the platform's)
      --replicas       ODGM replicas per partition (default: the platform's)
  oaas --help

Exit codes: 0 done, 1 the module or the command failed, 2 usage error.
TypeScript modules: run the CLI under tsx, e.g. NODE_OPTIONS="--import tsx" npx oaas serve ./services.ts
`;

const DEFAULT_PORT = 8080;

/** `oaas serve`. */
export interface ServeCommand {
  readonly command: 'serve';
  readonly module: string;
  readonly port: number;
  readonly host: string | undefined;
  readonly token: string | undefined;
  /** Serve the gRPC function runtime instead of HTTP. */
  readonly grpc: boolean;
}

/** `oaas pkg`. */
export interface PkgCommand {
  readonly command: 'pkg';
  readonly module: string;
  readonly format: 'yaml' | 'json';
  readonly name: string | undefined;
  readonly version: string | undefined;
  readonly description: string | undefined;
  /** What deploying on Oparaca needs; absent without `--image`. */
  readonly deploy: PkgDeployOptions | undefined;
}

/** The deployment flags of `oaas pkg`. */
export interface PkgDeployOptions {
  readonly image: string;
  readonly port: number | undefined;
  readonly deployments: boolean;
  readonly targetEnvs: readonly string[];
  readonly partitions: number | undefined;
  readonly replicas: number | undefined;
}

/** What to do: a command, the help, or a usage error (its message). */
export type ParsedArgs = ServeCommand | PkgCommand | { readonly command: 'help' } | { readonly command: 'usage-error'; readonly message: string };

class UsageError extends Error {}

function parsePort(raw: string, source: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new UsageError(`${source} must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function nonEmpty(raw: string | undefined, flag: string): string | undefined {
  if (raw === '') throw new UsageError(`${flag} must not be empty`);
  return raw;
}

/** The single positional argument after the command: the module to import. */
function moduleOf(positionals: readonly string[], command: string): string {
  if (positionals.length === 0) throw new UsageError(`${command}: missing <module>`);
  if (positionals.length > 1) throw new UsageError(`${command}: unexpected argument ${JSON.stringify(positionals[1])}`);
  return positionals[0]!;
}

function parseServe(args: readonly string[], env: NodeJS.ProcessEnv): ServeCommand {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: { port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' }, grpc: { type: 'boolean' } },
  });
  const grpc = values.grpc === true;
  if (grpc && values.token !== undefined) throw new UsageError('--token applies to the HTTP server: the gRPC function runtime takes no token');
  const envPort = env.HTTP_PORT;
  let port = DEFAULT_PORT;
  if (values.port !== undefined) port = parsePort(values.port, '--port');
  else if (envPort !== undefined && envPort !== '') port = parsePort(envPort, 'HTTP_PORT');
  return {
    command: 'serve',
    module: moduleOf(positionals, 'serve'),
    port,
    host: nonEmpty(values.host, '--host'),
    token: nonEmpty(values.token, '--token'),
    grpc,
  };
}

function parseCount(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d{0,5}$/.test(raw)) throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parsePkg(args: readonly string[]): PkgCommand {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: 'string' },
      name: { type: 'string' },
      version: { type: 'string' },
      description: { type: 'string' },
      image: { type: 'string' },
      'function-port': { type: 'string' },
      deploy: { type: 'boolean' },
      env: { type: 'string', multiple: true },
      partitions: { type: 'string' },
      replicas: { type: 'string' },
    },
  });
  const format = values.format ?? 'yaml';
  if (format !== 'yaml' && format !== 'json') throw new UsageError(`--format must be yaml or json, got ${JSON.stringify(format)}`);
  const image = nonEmpty(values.image, '--image');
  if (image === undefined) {
    // Without an image there is nothing to deploy: the deployment flags would be dropped silently.
    const stray = (['function-port', 'deploy', 'env', 'partitions', 'replicas'] as const).find((flag) => values[flag] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --image: the deployment fields describe the image that serves the functions`);
  }
  const deployments = values.deploy === true;
  if (!deployments) {
    const stray = (['env', 'partitions', 'replicas'] as const).find((flag) => values[flag] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --deploy: it describes the deployments`);
  }
  const deploy: PkgDeployOptions | undefined =
    image === undefined
      ? undefined
      : {
          image,
          port: values['function-port'] === undefined ? undefined : parsePort(values['function-port'], '--function-port'),
          deployments,
          targetEnvs: (values.env ?? []).map((env) => nonEmpty(env, '--env')!),
          partitions: parseCount(values.partitions, '--partitions'),
          replicas: parseCount(values.replicas, '--replicas'),
        };
  return {
    command: 'pkg',
    module: moduleOf(positionals, 'pkg'),
    format,
    name: nonEmpty(values.name, '--name'),
    version: nonEmpty(values.version, '--version'),
    description: nonEmpty(values.description, '--description'),
    deploy,
  };
}

/**
 * Parses the arguments after `oaas`. `HTTP_PORT` from `env` is the port
 * when `--port` is not given.
 */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedArgs {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return parseServe(rest, env);
      case 'pkg':
        return parsePkg(rest);
      case '--help':
      case '-h':
      case 'help':
        if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
        return { command: 'help' };
      case undefined:
        throw new UsageError('missing command');
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    // parseArgs reports unknown flags and missing flag values with ERR_PARSE_ARGS_* TypeErrors.
    const code = (error as { code?: unknown }).code;
    if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))) {
      return { command: 'usage-error', message: (error as Error).message };
    }
    throw error;
  }
}
