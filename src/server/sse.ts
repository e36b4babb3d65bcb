/**
 * Streams the values of a streaming (`async *`) method as Server-Sent Events:
 * one `data:` event per value (its JSON), then `event: end`; or
 * `event: error` carrying `{ error: { code, message } }` if the stream fails.
 *
 * The first value is pulled before the response starts, so a stream that
 * cannot start (unknown object, lock timeout) fails with a plain JSON error
 * and its proper status instead of a 200 that errors at once.
 */
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { OaasError } from '../errors.js';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { wireErrorOf } from './errors.js';

/** Starts the SSE reply for `stream`; rejects (for the error handler) if the stream fails before its first value. */
export async function sseReply(c: Context, stream: AsyncGenerator<unknown>, logger: () => Logger | undefined): Promise<Response> {
  const first = await stream.next();
  // node-server aborts the request's signal when the client goes away; in-process callers cancel the body instead.
  const signal = c.req.raw.signal;
  let aborted = false;
  // Reverse proxies (nginx) buffer responses by default, which would hold the events back.
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (sse) => {
    sse.onAbort(() => {
      aborted = true;
    });
    await pump(sse, stream, first, () => aborted || sse.aborted || signal.aborted, (error) => {
      if (!(error instanceof OaasError)) logger()?.error({ err: error, path: c.req.path }, 'stream failed unexpectedly');
    });
  });
}

async function pump(
  sse: SSEStreamingApi,
  stream: AsyncGenerator<unknown>,
  first: IteratorResult<unknown>,
  gone: () => boolean,
  report: (error: unknown) => void,
): Promise<void> {
  // `ended`: the generator finished or threw by itself; otherwise we must end it with return().
  let ended = first.done === true;
  try {
    let step = first;
    while (step.done !== true) {
      await sse.writeSSE({ data: JSON.stringify(step.value ?? null) });
      // The client left: stop pulling. return() below ends the generator, and the object keeps its last checkpoint.
      if (gone()) return;
      try {
        step = await stream.next();
      } catch (error) {
        ended = true;
        throw error;
      }
    }
    ended = true;
    await sse.writeSSE({ event: 'end', data: '' });
  } catch (error) {
    report(error);
    if (!gone()) await sse.writeSSE({ event: 'error', data: JSON.stringify({ error: wireErrorOf(error) }) });
  } finally {
    if (!ended) await stream.return(undefined).catch(() => undefined);
  }
}
