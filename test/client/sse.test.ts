// The client's SSE reader on bodies cut at awkward places, as a network delivers them.
import { describe, expect, it } from 'vitest';
import { readEvents, type SseEvent } from '../../src/client/sse.js';

function body(chunks: readonly string[], onCancel?: () => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++]));
      else controller.close();
    },
    cancel() {
      onCancel?.();
    },
  });
}

async function all(stream: ReadableStream<Uint8Array>): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of readEvents(stream)) events.push(event);
  return events;
}

describe('readEvents', () => {
  it('reads events split across chunks and line endings, skips comments, and carries the last id over', async () => {
    const events = await all(body([': hello\r\nid: 7\r', '\ndata: {"a"', ':1}\n\nevent: end\nda', 'ta: x\ndata: y\n\n', 'data: z\n\n']));
    expect(events).toEqual([
      { event: 'message', data: '{"a":1}', id: '7' },
      { event: 'end', data: 'x\ny', id: '7' },
      { event: 'message', data: 'z', id: '7' },
    ]);
  });

  it('dispatches nothing for a block without data, nor for an event cut off by the end of the body', async () => {
    expect(await all(body(['event: ping\n\n', 'data: cut']))).toEqual([]);
  });

  it('cancels the body when the reader stops early, which closes the request', async () => {
    let cancelled = false;
    for await (const event of readEvents(body(['data: 1\n\n', 'data: 2\n\n'], () => (cancelled = true)))) {
      expect(event.data).toBe('1');
      break;
    }
    expect(cancelled).toBe(true);
  });
});
