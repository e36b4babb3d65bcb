// How a binary payload (gRPC's, the Oparaca dialect's) becomes a method's arguments.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { payloadArguments } from '../../src/invocation/payload-arguments.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const one = { name: 'echo', arity: 1 };
const two = { name: 'add', arity: 2 };

describe('payloadArguments', () => {
  it('reads UTF-8 JSON as a JSON body: one argument, an array of them, or none', () => {
    expect(payloadArguments(bytes('{"amount": 5}'), one)).toEqual([{ amount: 5 }]);
    expect(payloadArguments(bytes('[1, 2]'), two)).toEqual([1, 2]);
    expect(payloadArguments(bytes('  '), one)).toEqual([]);
    expect(payloadArguments(new Uint8Array(0), one)).toEqual([]);
  });

  it('hands anything else to the method as one argument, the same bytes', () => {
    const text = bytes('hello-world');
    expect(payloadArguments(text, one)).toEqual([text]);
    expect(payloadArguments(text, one)[0]).toBe(text);
    const binary = new Uint8Array([0xff, 0xfe, 0x00]);
    expect(payloadArguments(binary, one)[0]).toBe(binary);
    expect(payloadArguments(binary, { name: 'none', arity: 0 })).toEqual([binary]);
  });

  it('refuses JSON of the wrong shape, and bytes for a method of several parameters', () => {
    expect(() => payloadArguments(bytes('{"a": 1}'), two)).toThrow(InvalidArgumentError);
    expect(() => payloadArguments(bytes('{"a": 1}'), two)).toThrow('payload: add takes 2 arguments: send a JSON array');
    expect(() => payloadArguments(bytes('not json'), two)).toThrow('payload: add takes 2 arguments: send a JSON array');
  });
});
