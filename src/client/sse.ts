/**
 * Reads Server-Sent Events bodies with `eventsource-parser` (the maintained
 * parser of the HTML spec's event stream format), as an async iterator.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

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
  const parsed: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => parsed.push(message) });
  let id = '';
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
      for (const message of parsed.splice(0)) {
        if (message.id !== undefined) id = message.id;
        yield { event: message.event ?? 'message', data: message.data, id };
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
