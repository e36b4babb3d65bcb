/**
 * One-dimensional arrays in PostgreSQL's binary wire format, for the columns
 * of the SDK's own batches. node-postgres sends a `Buffer` parameter as
 * binary, so the server reads each element with a length prefix (`array_recv`)
 * instead of parsing the quoted, backslash-escaped text form node-postgres
 * builds for a JS array (`{"…","…"}`), and the client skips building it: for
 * 10k state documents, both sides of that text form cost milliseconds.
 *
 * Layout: ndim (1), has-nulls flag, element type OID, then the dimension's
 * length and lower bound (1), then per element its byte length (-1: NULL)
 * and its bytes. The parameter's type comes from its cast in the statement
 * (`$3::text[]`), and the element OID must match it.
 */

const TEXT = 25;
const INT4 = 23;
const INT8 = 20;
const BOOL = 16;
const HEADER = 20;
const TWO_32 = 2 ** 32;

function header(buffer: Buffer, count: number, oid: number, hasNull: boolean): void {
  buffer.writeInt32BE(1, 0);
  buffer.writeInt32BE(hasNull ? 1 : 0, 4);
  buffer.writeInt32BE(oid, 8);
  buffer.writeInt32BE(count, 12);
  buffer.writeInt32BE(1, 16);
}

/** A `text[]`. A UTF-16 code unit takes at most 3 bytes in UTF-8, which bounds the buffer without measuring each string first. */
export function textArray(values: readonly string[]): Buffer {
  let bound = HEADER + 4 * values.length;
  for (const value of values) bound += 3 * value.length;
  const buffer = Buffer.allocUnsafe(bound);
  header(buffer, values.length, TEXT, false);
  let at = HEADER;
  for (const value of values) {
    const written = buffer.write(value, at + 4, 'utf8');
    buffer.writeInt32BE(written, at);
    at += 4 + written;
  }
  return buffer.subarray(0, at);
}

/** An `int4[]` of integers in its range. */
export function int4Array(values: readonly number[]): Buffer {
  const buffer = Buffer.allocUnsafe(HEADER + 8 * values.length);
  header(buffer, values.length, INT4, false);
  let at = HEADER;
  for (const value of values) {
    buffer.writeInt32BE(4, at);
    buffer.writeInt32BE(value, at + 4);
    at += 8;
  }
  return buffer;
}

/** An `int8[]` of safe integers, `null` for NULL; each written as two 32-bit halves (no BigInt). */
export function int8Array(values: readonly (number | null)[]): Buffer {
  let nulls = 0;
  for (const value of values) if (value === null) nulls += 1;
  const buffer = Buffer.allocUnsafe(HEADER + 12 * (values.length - nulls) + 4 * nulls);
  header(buffer, values.length, INT8, nulls > 0);
  let at = HEADER;
  for (const value of values) {
    if (value === null) {
      buffer.writeInt32BE(-1, at);
      at += 4;
      continue;
    }
    const high = Math.floor(value / TWO_32);
    buffer.writeInt32BE(8, at);
    buffer.writeInt32BE(high, at + 4);
    buffer.writeUInt32BE(value - high * TWO_32, at + 8);
    at += 12;
  }
  return buffer;
}

/** A `bool[]`. */
export function boolArray(values: readonly boolean[]): Buffer {
  const buffer = Buffer.allocUnsafe(HEADER + 5 * values.length);
  header(buffer, values.length, BOOL, false);
  let at = HEADER;
  for (const value of values) {
    buffer.writeInt32BE(1, at);
    buffer[at + 4] = value ? 1 : 0;
    at += 5;
  }
  return buffer;
}
