/**
 * The type of a caller-supplied Redis client, kept apart from the modules
 * that use ioredis's own types so that the public declarations type-check in
 * applications without ioredis.
 */

/**
 * An ioredis `Redis` client, typed by a few of its members. The store uses
 * many more (commands, `MULTI`, scripts); only an ioredis client has them,
 * and a `new Redis(...)` fits this type.
 */
export interface RedisClient {
  readonly status: string;
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}
