// ObjData in its two wire forms: golden protobuf bytes (written out by hand from the proto3 encoding rules) and serde's JSON.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import { decodeObjData, encodeObjData, objDataFromJson, objDataToJson } from '../../../src/protocol/oprc/obj-data.js';

const enc = new TextEncoder();
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const texts = (entries: Record<string, { data: Uint8Array; type: number }>): Record<string, [string, number]> =>
  Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, [Buffer.from(v.data).toString(), v.type]]));

// metadata (1) { cls_id (1) "C", object_id (4) "x" }, entries (4) { "count": { data (1) "7" } }: default values are not written.
const GOLDEN = '0a060a0143220178' + '220c0a05636f756e7412030a0137';
// metadata { cls_id "C", partition_id (2) 3 }, entries { "m": { data "{}", type (2) 1 } }
const GOLDEN_NON_DEFAULT = '0a050a01431003' + '220b0a016d12060a027b7d1001';

describe('ObjData protobuf', () => {
  it('encodes canonical proto3 bytes, as the platform does', () => {
    expect(hex(encodeObjData({ metadata: { cls_id: 'C', partition_id: 0, object_id: 'x' }, entries: { count: { data: enc.encode('7'), type: 0 } } }))).toBe(GOLDEN);
    expect(hex(encodeObjData({ metadata: { cls_id: 'C', partition_id: 3 }, entries: { m: { data: enc.encode('{}'), type: 1 } } }))).toBe(GOLDEN_NON_DEFAULT);
    expect(hex(encodeObjData({ entries: {} }))).toBe('');
  });

  it('decodes them back, defaults filled in', () => {
    const obj = decodeObjData(Buffer.from(GOLDEN, 'hex'));
    expect(obj.metadata).toEqual({ cls_id: 'C', partition_id: 0, object_id: 'x' });
    expect(texts(obj.entries)).toEqual({ count: ['7', 0] });
    const other = decodeObjData(Buffer.from(GOLDEN_NON_DEFAULT, 'hex'));
    expect([other.metadata, texts(other.entries)]).toEqual([{ cls_id: 'C', partition_id: 3 }, { m: ['{}', 1] }]);
    expect(decodeObjData(new Uint8Array(0))).toEqual({ entries: {} });
  });

  it('keeps the event section it meets, and refuses bytes that are not a message', () => {
    const withEvent = encodeObjData({ entries: {}, event: { func_trigger: { f: { on_complete: [{ cls_id: 'a.B', partition_id: 1, fn_id: 'g' }] } } } });
    expect(decodeObjData(withEvent).event).toEqual({ func_trigger: { f: { on_complete: [{ cls_id: 'a.B', partition_id: 1, fn_id: 'g' }] } } });
    expect(() => decodeObjData(new Uint8Array([0x22, 0x05, 0x01]))).toThrow(InvalidArgumentError);
    expect(() => decodeObjData(new Uint8Array([0xff, 0xff]))).toThrow(/^ObjData: failed to decode Protobuf message: /);
  });
});

describe('ObjData JSON', () => {
  it('writes serde’s form: snake_case, standard base64, enum numbers, null for what is absent', () => {
    const obj = decodeObjData(Buffer.from(GOLDEN, 'hex'));
    expect(JSON.stringify(objDataToJson(obj))).toBe('{"metadata":{"cls_id":"C","partition_id":0,"object_id":"x"},"event":null,"entries":{"count":{"data":"Nw==","type":0}}}');
    expect(objDataToJson({ entries: { b: { data: new Uint8Array([0xfb, 0xff]), type: 1 } } })).toEqual({ metadata: null, event: null, entries: { b: { data: '+/8=', type: 1 } } });
  });

  it('reads it back, with metadata and event optional and unknown names ignored', () => {
    const obj = objDataFromJson({ entries: { count: { data: 'Nw==', type: 0 } }, version: 9 });
    expect([obj.metadata, texts(obj.entries)]).toEqual([undefined, { count: ['7', 0] }]);
    expect(objDataFromJson({ metadata: { cls_id: 'C', partition_id: 2, object_id: null }, event: null, entries: {} })).toEqual({ metadata: { cls_id: 'C', partition_id: 2 }, entries: {} });
  });

  it('is as strict as the platform’s reader', () => {
    const refused = [
      [],
      {},
      { entries: [] },
      { entries: { a: { data: 'Nw==' } } },
      { entries: { a: { type: 0 } } },
      { entries: { a: { data: 'Nw', type: 0 } } },
      { entries: { a: { data: 'N-==', type: 0 } } },
      { entries: { a: { data: 'Nw==', type: 0.5 } } },
      { entries: {}, metadata: { partition_id: 0 } },
      { entries: {}, metadata: { cls_id: 'C', partition_id: -1 } },
      { entries: {}, event: 'x' },
    ];
    for (const body of refused) expect(() => objDataFromJson(body), JSON.stringify(body)).toThrow(InvalidArgumentError);
  });

  it('keeps an entry named __proto__ as an entry of its own', () => {
    const obj = objDataFromJson(JSON.parse('{"entries":{"__proto__":{"data":"MQ==","type":0}}}'));
    expect(Object.keys(obj.entries)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(obj.entries)).toBe(Object.prototype);
    expect(Object.keys(objDataToJson(obj).entries)).toEqual(['__proto__']);
  });
});
