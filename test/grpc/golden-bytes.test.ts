// The invocation messages on the wire, against bytes worked out by hand from the protobuf encoding rules
// (tag = field number << 3 | wire type; 0 varint, 2 length-delimited; a map entry is a message of key = 1,
// value = 2), so a field number or type that drifted from the platform's would show here.
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { oprcFunctionService, MalformedRequest } from '../../src/grpc/service-definition.js';
import { oprcType } from '../../src/protocol/oprc/messages.js';

/** Bytes from hex, `#` starting a comment to the end of the line. */
const hex = (text: string) => Buffer.from(text.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
const ascii = (text: string) => Buffer.from(text, 'ascii').toString('hex');

// ObjectInvocationRequest { partition_id: 300, cls_id: "c", fn_id: "f", options: { k: "v" }, payload: "p", object_id: "o" }
const OBJECT_REQUEST = hex(`
  08 ac 02                                    # field 1, varint: 300 = 0b10_0101100, low 7 bits first -> ac 02
  1a 01 ${ascii('c')}                         # field 3, length-delimited, 1 byte
  22 01 ${ascii('f')}                         # field 4
  2a 06 0a 01 ${ascii('k')} 12 01 ${ascii('v')}     # field 5: one map entry of 6 bytes
  32 01 ${ascii('p')}                         # field 6
  3a 01 ${ascii('o')}                         # field 7 (field 2, the retired id, is absent)
`);

// InvocationRequest { partition_id: 2, cls_id: "c", fn_id: "echo", payload: "hi" }
const FN_REQUEST = hex(`08 02  1a 01 ${ascii('c')}  22 04 ${ascii('echo')}  32 02 ${ascii('hi')}`);

// InvocationResponse { payload: "{}", status: APP_ERROR (2), headers: { content-type: application/json }, invocation_id: "i1" }
const RESPONSE = hex(`
  0a 02 ${ascii('{}')}
  10 02
  1a 20 0a 0c ${ascii('content-type')} 12 10 ${ascii('application/json')}   # the entry: 2 + 12 + 2 + 16 = 32 bytes
  22 02 ${ascii('i1')}
`);

const served = oprcFunctionService(protoLoader);

describe('the invocation messages, byte for byte', () => {
  it('encodes ObjectInvocationRequest with the platform field numbers', () => {
    const message = { partition_id: 300, cls_id: 'c', fn_id: 'f', options: { k: 'v' }, payload: Buffer.from('p'), object_id: 'o' };
    expect(Buffer.from(oprcType('ObjectInvocationRequest').encode(message).finish())).toEqual(OBJECT_REQUEST);
    // What the server decodes from those bytes.
    expect(served.InvokeObj.requestDeserialize(OBJECT_REQUEST)).toEqual(message);
    // What a client of the same schema sends.
    expect(served.InvokeObj.requestSerialize(message)).toEqual(OBJECT_REQUEST);
  });

  it('encodes InvocationRequest, and the server fills in what was left out', () => {
    const message = { partition_id: 2, cls_id: 'c', fn_id: 'echo', payload: Buffer.from('hi') };
    expect(Buffer.from(oprcType('InvocationRequest').encode(message).finish())).toEqual(FN_REQUEST);
    expect(served.InvokeFn.requestDeserialize(FN_REQUEST)).toEqual({ ...message, options: {} });
    // No object id on the wire: the field stays absent, not an empty string.
    expect(served.InvokeObj.requestDeserialize(FN_REQUEST)).not.toHaveProperty('object_id');
  });

  it('encodes InvocationResponse as the server answers it', () => {
    const message = { payload: Buffer.from('{}'), status: 2, headers: { 'content-type': 'application/json' }, invocation_id: 'i1' };
    expect(Buffer.from(oprcType('InvocationResponse').encode(message).finish())).toEqual(RESPONSE);
    expect(served.InvokeObj.responseSerialize(message)).toEqual(RESPONSE);
    expect(served.InvokeFn.responseDeserialize(RESPONSE)).toEqual(message);
    // OKAY without a payload: status 0 written out, which proto3 decoders read as the default they would assume.
    expect(served.InvokeFn.responseSerialize({ status: 0, headers: {} })).toEqual(hex('10 00'));
  });

  it('hands bytes that do not decode to the handler as a MalformedRequest', () => {
    expect(served.InvokeObj.requestDeserialize(hex('0a'))).toBeInstanceOf(MalformedRequest);
    expect(served.InvokeFn.requestDeserialize(hex('1a 85'))).toBeInstanceOf(MalformedRequest);
  });
});
