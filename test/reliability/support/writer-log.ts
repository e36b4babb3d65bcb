import Database from 'better-sqlite3';
import { ObjectNotFoundError, shutdown } from '../../../src/index.js';
import { freshRuntime } from '../../support/runtime.js';
import { Account } from '../../support/services.js';

/** What the load writer printed: the last value of each stream, and every auto update with its time. */
export interface WriterLog {
  readonly acked: number[];
  readonly scope: number;
  readonly pair: number;
  readonly auto: { readonly balance: number; readonly at: number }[];
  /** Updates reported after `ready` (the lines before it give the starting values). */
  readonly updates: number;
}

export function parseWriterLog(lines: readonly string[]): WriterLog {
  const acked = [0, 0, 0];
  let scope = 0;
  let pair = 0;
  let updates = 0;
  const auto: { balance: number; at: number }[] = [];
  let started = false;
  for (const line of lines) {
    if (line === 'ready') started = true;
    const [kind, a, b] = line.split(' ');
    if (kind === 'acked') acked[Number(a)] = Number(b);
    else if (kind === 'scope') scope = Number(a);
    else if (kind === 'pair') pair = Number(a);
    else if (kind === 'auto') auto.push({ balance: Number(a), at: Number(b) });
    else continue;
    // Lines before `ready` are the starting values, not updates.
    if (started) updates += 1;
  }
  return { acked, scope, pair, auto, updates };
}

/** The balances the store holds, read through a fresh runtime (which must open the file cleanly). */
export interface StoredBalances {
  readonly acked: number[];
  readonly scope: number[];
  readonly pair: number[];
  readonly auto: number;
}

async function balance(id: string): Promise<number> {
  try {
    return (await Account.load(id)).balance;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return 0;
    throw error;
  }
}

export async function readStored(path: string): Promise<StoredBalances> {
  await freshRuntime({ store: `sqlite:${path}` });
  try {
    return {
      acked: await Promise.all([0, 1, 2].map((k) => balance(`acked-${k}`))),
      scope: await Promise.all(['scope-a', 'scope-b', 'scope-c'].map(balance)),
      pair: await Promise.all(['pair-x', 'pair-y'].map(balance)),
      auto: await balance('auto'),
    };
  } finally {
    await shutdown();
  }
}

/** SQLite's own consistency check of the file. */
export function integrityCheck(path: string): string {
  const db = new Database(path);
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}
