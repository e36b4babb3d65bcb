import { describe, expect, it } from 'vitest';
import { deliverMessage, encodeHead, encodeMessages } from '../../src/stores/change-feed.js';
import { notifyStatements } from '../../src/stores/postgres/events.js';
import type { StoreChange, WriteOp } from '../../src/index.js';

const put = (objectId: string, keys: string[]): WriteOp => ({ kind: 'put', key: { clsId: 'c.C', partitionId: 1, objectId }, set: new Map(keys.map((k) => [k, new Uint8Array([49])])) });

describe('the change message format', () => {
  it('chunks a large batch under the byte limit, multi-byte text included, and reads every change back in order', () => {
    const ops = Array.from({ length: 300 }, (_, i) => put(`ünïcødé-${'ж'.repeat(30)}-${i}`, ['field', 'другое']));
    const versions = ops.map((_, i) => i + 1);
    const messages = encodeMessages('me', ops, versions, 7900);
    expect(messages.length).toBeGreaterThan(1);
    for (const message of messages) expect(Buffer.byteLength(message)).toBeLessThan(7900);
    const heard: StoreChange[] = [];
    for (const message of messages) expect(deliverMessage(message, 'someone else', (changes) => heard.push(...changes))).toBe(true);
    expect(heard.map((c) => [c.key.objectId, c.version, c.kind, c.changed])).toEqual(ops.map((op, i) => [op.key.objectId, i + 1, i === 0 ? 'create' : 'update', ['field', 'другое']]));
  });

  it('sends an op too large for one message without its changed keys, skips its own messages and deletes of nothing, ignores foreign text', () => {
    const huge = put('big', Array.from({ length: 2000 }, (_, i) => `key-${i}`));
    const [message] = encodeMessages('me', [huge], [4], 7900);
    const heard: StoreChange[] = [];
    deliverMessage(message!, 'other', (changes) => heard.push(...changes));
    expect(heard).toEqual([{ key: { clsId: 'c.C', partitionId: 1, objectId: 'big' }, version: 4, kind: 'update', changed: [] }]);
    expect(deliverMessage(message!, 'me', () => expect.unreachable())).toBe(true);
    const removed = `0,3\n${encodeHead('x', [{ kind: 'delete', key: { clsId: 'c.C', partitionId: 1, objectId: 'gone' } }, { kind: 'delete', key: { clsId: 'c.C', partitionId: 1, objectId: 'was' } }])}`;
    const deletes: StoreChange[] = [];
    deliverMessage(removed, 'other', (changes) => deletes.push(...changes));
    expect(deletes).toEqual([{ key: { clsId: 'c.C', partitionId: 1, objectId: 'was' }, version: 3, kind: 'delete', changed: [] }]);
    for (const text of ['hello', '1\nnot json', '1\n{"o":3}', '1\n[1]']) expect(deliverMessage(text, 'other', () => expect.unreachable())).toBe(false);
  });

  it('dollar-quotes PostgreSQL payloads, binding the one that holds the quote instead', () => {
    const { inline, params } = notifyStatements('me', [put("it's plain", ['a'])], [1]);
    expect(inline).toMatch(/^SELECT pg_notify\('oaas_events', \$oaas_events\$.*\$oaas_events\$\);$/s);
    expect(params).toHaveLength(0);
    const apart = notifyStatements('me', [put('has-$oaas_events$-quote', ['a'])], [2]);
    expect(apart.inline).toBe('');
    expect(apart.params).toHaveLength(1);
  });
});
