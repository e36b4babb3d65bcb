/**
 * A small Server-Sent Events reader (the subset of the HTML spec an OaaS
 * server sends): `event:` and `data:` fields, comments, blank-line dispatch.
 */

/** One dispatched event. `event` is `'message'` when the server named none. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  /** The last `id:` the stream set (it carries over to later events, as the spec says). */
  readonly id: string;
}

/**
 * Reads the events of an SSE body. Stopping early (break, return, throw)
 * cancels the body, which closes the request.
 */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id = '';
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // A trailing '\r' may be the first half of '\r\n': keep it until more arrives.
      for (let end = lineEnd(buffer, done); end !== -1; end = lineEnd(buffer, done)) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(buffer[end] === '\r' && buffer[end + 1] === '\n' ? end + 2 : end + 1);
        if (line === '') {
          if (data.length > 0) yield { event: event === '' ? 'message' : event, data: data.join('\n'), id };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let fieldValue = colon === -1 ? '' : line.slice(colon + 1);
        if (fieldValue.startsWith(' ')) fieldValue = fieldValue.slice(1);
        if (field === 'event') event = fieldValue;
        else if (field === 'data') data.push(fieldValue);
        else if (field === 'id' && !fieldValue.includes('\0')) id = fieldValue;
      }
      if (done) {
        finished = true;
        return;
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

function lineEnd(buffer: string, done: boolean): number {
  for (let i = 0; i < buffer.length; i++) {
    const ch = buffer[i];
    if (ch === '\n') return i;
    if (ch === '\r') return i + 1 < buffer.length || done ? i : -1;
  }
  return -1;
}
