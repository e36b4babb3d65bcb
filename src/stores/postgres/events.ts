/**
 * Change events on PostgreSQL: `pg_notify` on one channel in the transaction
 * that writes a batch (so a notification exists if and only if the batch
 * committed, and listeners get them in commit order), and one pooled
 * connection that LISTENs for as long as anyone subscribes.
 */
import type { Pool, PoolClient } from 'pg';
import { backoffDelay } from '../../backoff.js';
import { StoreError } from '../../errors.js';
import { encodeMessages } from '../change-feed.js';
import type { WriteOp } from '../store.js';

/** The channel every SDK process on a database notifies and listens on. */
export const EVENTS_CHANNEL = 'oaas_events';

/** PostgreSQL refuses a payload of 8000 bytes or more; a little is kept for the framing. */
const MAX_PAYLOAD = 7900;

const QUOTE = '$oaas_events$';

/**
 * The statements that publish a batch, to run in front of its `COMMIT` in one
 * round trip. Each payload goes dollar-quoted (no escaping rules to get
 * wrong); one that happens to hold the quote goes as a bound parameter
 * instead, in `params`.
 */
export function notifyStatements(origin: string, ops: readonly WriteOp[], versions: readonly number[]): { inline: string; params: string[] } {
  let inline = '';
  const params: string[] = [];
  for (const message of encodeMessages(origin, ops, versions, MAX_PAYLOAD)) {
    if (message.includes(QUOTE)) params.push(message);
    else inline += `SELECT pg_notify('${EVENTS_CHANNEL}', ${QUOTE}${message}${QUOTE});`;
  }
  return { inline, params };
}

/** Sends what {@link notifyStatements} built, then commits. */
export async function commitWithEvents(client: PoolClient, { inline, params }: { inline: string; params: string[] }): Promise<void> {
  if (params.length > 0) await client.query(`SELECT pg_notify('${EVENTS_CHANNEL}', m) FROM unnest($1::text[]) AS m`, [params]);
  await client.query(`${inline}COMMIT`);
}

/** Notifies the change events of `ops` at `versions`, then commits. */
export function notifyAndCommit(client: PoolClient, origin: string, ops: readonly WriteOp[], versions: readonly number[]): Promise<void> {
  return commitWithEvents(client, notifyStatements(origin, ops, versions));
}

/**
 * The listening connection: taken from the pool on `start`, given back
 * (destroyed) on `stop`. When it breaks, it reconnects with back-off; what
 * was notified meanwhile is lost, which watchers see as gaps at the next
 * version they hear.
 */
export class PostgresListener {
  private client: PoolClient | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly onMessage: (payload: string) => void,
  ) {}

  async start(): Promise<void> {
    const client = await this.pool.connect();
    const lost = (error?: Error): void => {
      this.lost(client, error ?? new StoreError('postgres listening connection ended', { transient: true }));
    };
    client.on('notification', (message) => {
      if (message.channel === EVENTS_CHANNEL && message.payload !== undefined) this.onMessage(message.payload);
    });
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (error) {
      client.release(true);
      throw error;
    }
    if (this.stopped) client.release(true);
    else this.client = client;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    await client.query(`UNLISTEN ${EVENTS_CHANNEL}`).catch(() => undefined);
    client.release(true);
  }

  private lost(client: PoolClient, error: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.release(error);
    this.reconnect(1);
  }

  private reconnect(attempt: number): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => {
      this.start().catch(() => {
        this.reconnect(attempt + 1);
      });
    }, backoffDelay(attempt, 100, 5000, true));
    this.retry.unref();
  }
}
