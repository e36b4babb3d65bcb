/**
 * How the shared stores (PostgreSQL, Redis) publish applied batches to the
 * other processes: one text message per batch (or per chunk of a large one),
 *
 *   <version>,<version>,...\n{"o":"<origin>","c":[[cls,partition,id,"p"|"d",[changed keys]],...]}
 *
 * the versions first, aligned with `c`, so that the Redis script, which
 * alone knows them, can put them in front of the rest the client built. A
 * put is a create at version 1, an update after; a delete carries the
 * deleted object's last version plus one (0: nothing was deleted, skipped).
 */
import { randomUUID } from 'node:crypto';
import { changedEntries, type StoreChange, type StoreChangeListener, type WriteOp } from './store.js';

/** A change as it travels, without its version. */
type Head = [clsId: string, partitionId: number, objectId: string, kind: 'p' | 'd', changed: readonly string[]];

/** An id for one store instance, so that it can skip its own messages. */
export function newOrigin(): string {
  return randomUUID();
}

/** The part of a message that does not depend on the versions the write produced. */
export function encodeHead(origin: string, ops: readonly WriteOp[]): string {
  return JSON.stringify({ o: origin, c: ops.map((op) => headOf(op)) });
}

function headOf(op: WriteOp): Head {
  const { clsId, partitionId, objectId } = op.key;
  if (op.kind === 'delete') return [clsId, partitionId, objectId, 'd', []];
  return [clsId, partitionId, objectId, 'p', changedEntries(op)];
}

/**
 * Whole messages for `ops` with the versions written (deletes: last version
 * plus one, or 0), each at most `maxBytes` long in UTF-8 unless one op alone
 * is longer (PostgreSQL's limit is 8000 bytes: such an op is sent without
 * its changed keys, which a watcher then sees as empty).
 */
export function encodeMessages(origin: string, ops: readonly WriteOp[], versions: readonly number[], maxBytes: number): string[] {
  const messages: string[] = [];
  const prefix = `{"o":${JSON.stringify(origin)},"c":[`;
  let heads: string[] = [];
  let vs: number[] = [];
  let size = 0;
  const flush = (): void => {
    if (heads.length > 0) messages.push(`${vs.join(',')}\n${prefix}${heads.join(',')}]}`);
    heads = [];
    vs = [];
    size = 0;
  };
  ops.forEach((op, i) => {
    const version = versions[i] ?? 0;
    let head = JSON.stringify(headOf(op));
    if (Buffer.byteLength(head) + prefix.length + 40 > maxBytes) head = JSON.stringify([op.key.clsId, op.key.partitionId, op.key.objectId, op.kind === 'delete' ? 'd' : 'p', []]);
    const cost = Buffer.byteLength(head) + String(version).length + 2;
    if (heads.length > 0 && size + cost + Buffer.byteLength(prefix) + 2 > maxBytes) flush();
    heads.push(head);
    vs.push(version);
    size += cost;
  });
  flush();
  return messages;
}

/**
 * Reads a message, handing its changes to `listener` unless `self` wrote it.
 * Returns false for a message that is not one of ours (it is ignored).
 */
export function deliverMessage(text: string, self: string, listener: StoreChangeListener): boolean {
  const newline = text.indexOf('\n');
  if (newline < 0) return false;
  let body: unknown;
  try {
    body = JSON.parse(text.slice(newline + 1));
  } catch {
    return false;
  }
  if (typeof body !== 'object' || body === null) return false;
  const { o, c } = body as { o?: unknown; c?: unknown };
  if (typeof o !== 'string' || !Array.isArray(c)) return false;
  if (o === self) return true;
  const versions = text.slice(0, newline).split(',').map(Number);
  const changes: StoreChange[] = [];
  c.forEach((item: unknown, i) => {
    const version = versions[i];
    if (!Array.isArray(item) || version === undefined || !Number.isSafeInteger(version) || version < 1) return;
    const [clsId, partitionId, objectId, kind, changed] = item as unknown[];
    if (typeof clsId !== 'string' || typeof partitionId !== 'number' || typeof objectId !== 'string' || !Array.isArray(changed)) return;
    changes.push({
      key: { clsId, partitionId, objectId },
      version,
      kind: kind === 'd' ? 'delete' : version === 1 ? 'create' : 'update',
      changed: changed.filter((k): k is string => typeof k === 'string'),
    });
  });
  if (changes.length > 0) listener(changes);
  return true;
}

/** The listeners of one store instance, fed by its one listening connection. */
export class ChangeListeners {
  private readonly listeners = new Set<StoreChangeListener>();

  get size(): number {
    return this.listeners.size;
  }

  add(listener: StoreChangeListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Hands a message to every listener; a listener that throws does not stop the others. */
  deliver(text: string, self: string): void {
    for (const listener of this.listeners) {
      try {
        deliverMessage(text, self, listener);
      } catch {
        // The runtime's listener never throws; a foreign one must not break the store's connection.
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
