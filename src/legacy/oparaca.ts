import { checkKnownOptions, resolveConfig, type OaasConfig } from '../config.js';
import { InvalidArgumentError } from '../errors.js';
import { configureOaas, getAutoSessionManager } from '../runtime/process-runtime.js';
import { createClsMeta, type ClsMeta } from './cls-meta.js';
import { LegacySessionAdapter } from './legacy-session-adapter.js';

/** Options of `new Oparaca()`. */
export interface OparacaOptions {
  /** Use the memory store. */
  readonly mockMode?: boolean | undefined;
  /** Runtime configuration (see `configureOaas`). */
  readonly config?: OaasConfig | undefined;
}

const OPARACA_OPTIONS: ReadonlySet<string> = new Set(['mockMode', 'config']);

/**
 * The entry object of the manual session API. Constructing one with options
 * (re)configures the process-wide runtime; without options it uses the
 * current one.
 *
 * @example
 * const oaas = new Oparaca({ mockMode: true });
 * const session = oaas.newSession();
 */
export class Oparaca {
  private readonly configured: Promise<void>;

  constructor(options: OparacaOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'expected an object');
    checkKnownOptions(options, OPARACA_OPTIONS);
    const { mockMode, config } = options;
    if (mockMode === undefined && config === undefined) {
      this.configured = Promise.resolve();
      return;
    }
    const merged: OaasConfig = { ...config, ...(mockMode === undefined ? {} : { mockMode }) };
    resolveConfig(merged); // throws ConfigurationError here, synchronously, for bad options
    this.configured = configureOaas(merged);
    // The runtime is installed synchronously; failures to open the store also reach every later call.
    this.configured.catch(() => undefined);
  }

  /** Resolves once the runtime this Oparaca configured is ready; rejects with the reason it is not. */
  ready(): Promise<void> {
    return this.configured.then(() => getAutoSessionManager().ready());
  }

  /** Describes a class; apply the result to it as a decorator. */
  newCls(name: string, pkg?: string): ClsMeta {
    return createClsMeta(name, pkg);
  }

  /** A new manual unit of work. */
  newSession(partitionId?: number): LegacySessionAdapter {
    return new LegacySessionAdapter(getAutoSessionManager(), partitionId);
  }
}

let globalOaas: Oparaca | undefined;

/** The process-wide {@link Oparaca}, over the current runtime. */
export function getGlobalOaas(): Oparaca {
  return (globalOaas ??= new Oparaca());
}

/** A new manual unit of work on the current runtime. */
export function newSession(partitionId?: number): LegacySessionAdapter {
  return getGlobalOaas().newSession(partitionId);
}
