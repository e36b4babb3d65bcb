/**
 * The ODGM store's side of the wire: the bytes its DataService messages
 * encode to, written out by hand from the field numbers of
 * `commons/oprc-grpc/proto/oprc-data.proto` upstream, and the translation
 * of every gRPC status it may meet.
 */
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, StoreError } from '../../src/errors.js';
import { DATA_SERVICE, dataServiceDefinition } from '../../src/stores/odgm/client.js';
import { translateError } from '../../src/stores/odgm/errors.js';

const methods = dataServiceDefinition(protoLoader);
const hex = (buffer: Buffer): string => buffer.toString('hex');

describe('DataService messages', () => {
  it('calls the paths of oprc.DataService', () => {
    for (const name of ['Get', 'Delete', 'Set', 'ListObjects', 'GetValue', 'BatchSetValues', 'Capabilities']) {
      expect(methods[name]?.path).toBe(`/${DATA_SERVICE}/${name}`);
    }
    expect(methods.ListObjects?.responseStream).toBe(true);
    expect(methods.Get?.responseStream).toBe(false);
  });

  it('encodes BatchSetValuesRequest with its field numbers: cls_id 1, partition_id 2, object_id 4, values 5, delete_keys 6, expected_object_version 7', () => {
    const bytes = methods.BatchSetValues!.requestSerialize({
      cls_id: 'c',
      partition_id: 1,
      object_id: 'o',
      values: { k: { data: Buffer.from('v'), type: 1 } },
      delete_keys: ['d'],
      expected_object_version: 7,
    });
    // 0a 01 'c' | 10 01 | 22 01 'o' | 2a 0a (0a 01 'k' 12 05 (0a 01 'v' 10 01)) | 32 01 'd' | 38 07
    expect(hex(bytes)).toBe('0a0163' + '1001' + '22016f' + '2a0a' + '0a016b' + '1205' + '0a0176' + '1001' + '320164' + '3807');
  });

  it('sends expected_object_version 0 (a creation), and leaves it out when no version is expected', () => {
    const request = { cls_id: 'c', partition_id: 1, object_id: 'o', values: {}, delete_keys: [] };
    expect(hex(methods.BatchSetValues!.requestSerialize({ ...request, expected_object_version: 0 }))).toBe('0a0163100122016f3800');
    expect(hex(methods.BatchSetValues!.requestSerialize(request))).toBe('0a0163100122016f');
  });

  it('encodes SingleKeyRequest (key 5, object_id 6) and ListObjectsRequest (prefix 3, limit 4, cursor 5)', () => {
    expect(hex(methods.GetValue!.requestSerialize({ cls_id: 'c', partition_id: 2, key: 'k', object_id: 'o' }))).toBe('0a0163' + '1002' + '2a016b' + '32016f');
    expect(hex(methods.ListObjects!.requestSerialize({ cls_id: 'c', partition_id: 2, object_id_prefix: 'p', limit: 3, cursor: Buffer.from([0x61, 0, 0]) }))).toBe(
      '0a0163' + '1002' + '1a0170' + '2003' + '2a03610000',
    );
    expect(hex(methods.Get!.requestSerialize({ cls_id: 'c', partition_id: 2, object_id: 'o' }))).toBe('0a0163' + '1002' + '22016f');
  });

  it('decodes ValueResponse (object_version 2) and ObjectMetaEnvelope (object_id 1, version 2, entry_count 3, next_cursor 4), leaving absent fields out', () => {
    expect(methods.GetValue!.responseDeserialize(Buffer.from('1005' + '1a016b', 'hex'))).toEqual({ object_version: '5', key: 'k' });
    expect(methods.GetValue!.responseDeserialize(Buffer.from('1a016b', 'hex'))).toEqual({ key: 'k' });
    expect(methods.ListObjects!.responseDeserialize(Buffer.from('0a0161' + '1003' + '1802' + '2203610000', 'hex'))).toEqual({
      object_id: 'a',
      version: '3',
      entry_count: '2',
      next_cursor: Buffer.from([0x61, 0, 0]),
    });
    // ObjectResponse.obj 1 > ObjData.entries 4 > { 'k': ValData { data 1: 'v' } }
    expect(methods.Get!.responseDeserialize(Buffer.from('0a0a' + '2208' + '0a016b' + '1203' + '0a0176', 'hex'))).toEqual({ obj: { entries: { k: { data: Buffer.from('v') } } } });
  });
});

/** A grpc-js `ServiceError` as a call rejects with it. */
function serviceError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

describe('gRPC status translation', () => {
  it('marks statuses a retry may cure transient, and keeps the cause', () => {
    const transient = [
      serviceError(14, 'No connection established'),
      serviceError(14, 'Shard not ready'),
      serviceError(4, 'Deadline exceeded'),
      serviceError(8, 'Too many requests'),
      serviceError(9, 'Not leader'),
      serviceError(10, 'Transaction error: busy'),
      serviceError(1, 'Cancelled on server'),
    ];
    for (const cause of transient) {
      const error = translateError('get', cause);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).transient).toBe(true);
      expect(error.cause).toBe(cause);
      expect(error.message).toMatch(/^odgm get failed: [A-Z_]+: /);
    }
  });

  it('marks every other status, and errors that are not gRPC statuses, non-transient', () => {
    for (const cause of [serviceError(13, 'Storage error: disk'), serviceError(2, 'panic'), serviceError(7, 'denied'), serviceError(16, 'who'), serviceError(11, 'too large'), new Error('boom'), 'text']) {
      const error = translateError('apply', cause);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).transient).toBe(false);
    }
    expect(translateError('apply', serviceError(13, 'Storage error: disk')).message).toBe('odgm apply failed: INTERNAL: Storage error: disk');
  });

  it('turns INVALID_ARGUMENT into InvalidArgumentError naming the argument', () => {
    const error = translateError('apply', serviceError(3, 'invalid identity: invalid characters present'), 'ops');
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('ops');
    expect(error.message).toBe('ops: ODGM refused the apply (INVALID_ARGUMENT: invalid identity: invalid characters present)');
  });

  it("explains ODGM's missing shard and an UNIMPLEMENTED call, non-transient", () => {
    const shard = translateError('list', serviceError(5, 'not found shard'));
    expect((shard as StoreError).transient).toBe(false);
    expect(shard.message).toMatch(/holds no shard of the class and partition asked/);
    const unimplemented = translateError('apply', serviceError(12, 'Method not found'));
    expect((unimplemented as StoreError).transient).toBe(false);
    expect(unimplemented.message).toMatch(/not the gateway's/);
  });

  it('passes the SDK its own errors unchanged', () => {
    const conflict = new ConflictError([]);
    expect(translateError('apply', conflict)).toBe(conflict);
  });
});
