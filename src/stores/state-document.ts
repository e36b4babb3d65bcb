/**
 * Layout 2 of the SQL stores keeps an object in one row: its entries as one
 * JSON object, the state document (`{"count":7,"name":"a"}`), whose members
 * are the entries' own JSON texts. Writing an object is then one statement,
 * the database converts the text to UTF-8 itself, and an operator can read a
 * row as it is.
 *
 * The store contract allows any bytes in an entry, and not every byte string
 * survives a trip through a JSON document unchanged. An entry goes into the
 * document only when its bytes are canonical JSON text (what `JSON.stringify`
 * would write for the value they parse to), so decoding gives back the same
 * bytes; the others (binary data, JSON with other spacing or number forms)
 * go into a second column, the raw document, as base64 strings. The SDK
 * writes canonical text only, so its objects never have raw entries.
 */

/** An object's entries as the two columns of layout 2 hold them. */
export interface EncodedDocument {
  readonly state: string;
  /** `null` when every entry is in `state`. */
  readonly raw: string | null;
  readonly entryCount: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** The entry's JSON text when its bytes are canonical JSON, else `undefined`. */
function canonicalText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return undefined;
  }
  try {
    return JSON.stringify(JSON.parse(text)) === text ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Encodes entries as the state document and, for the entries it cannot hold, the raw document. */
export function encodeDocument(entries: ReadonlyMap<string, Uint8Array>): EncodedDocument {
  const members: string[] = [];
  let raw: Record<string, string> | undefined;
  for (const [key, bytes] of entries) {
    const text = canonicalText(bytes);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
    else (raw ??= Object.create(null) as Record<string, string>)[key] = Buffer.from(bytes).toString('base64');
  }
  return { state: `{${members.join(',')}}`, raw: raw === undefined ? null : JSON.stringify(raw), entryCount: entries.size };
}

/** The entries a row of layout 2 holds, each as its own bytes. */
export function decodeDocument(state: string, raw: string | null): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>();
  const members = JSON.parse(state) as Record<string, unknown>;
  for (const key of Object.keys(members)) entries.set(key, encoder.encode(JSON.stringify(members[key])));
  if (raw !== null) {
    const others = JSON.parse(raw) as Record<string, string>;
    for (const key of Object.keys(others)) entries.set(key, new Uint8Array(Buffer.from(others[key]!, 'base64')));
  }
  return entries;
}

/** `current` after an op's delta: `set` replaces or adds entries, `remove` drops them. */
export function applyDelta(
  current: Map<string, Uint8Array>,
  set: ReadonlyMap<string, Uint8Array> | undefined,
  remove: readonly string[] | undefined,
): Map<string, Uint8Array> {
  if (remove !== undefined) for (const key of remove) current.delete(key);
  if (set !== undefined) for (const [key, value] of set) current.set(key, value);
  return current;
}
