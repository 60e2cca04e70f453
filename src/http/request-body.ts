import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Context } from 'hono';

/**
 * The request body as a Node stream. Under `@hono/node-server` that is the socket's own
 * `IncomingMessage`: read directly, a body costs no web-stream wrapping (a Request body, a
 * `Readable.toWeb` bridge and a `Readable.fromWeb` back), which on a 1 KiB write was a tenth of
 * the request's CPU. Elsewhere (`app.request` in-process) the standard body is adapted.
 */
export function requestBody(c: Context): Readable {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const body: Readable = incoming ? detachable(incoming) : c.req.raw.body ? Readable.fromWeb(c.req.raw.body as WebReadableStream) : Readable.from([]);
  // A client that cuts the body off, or breaks its chunked encoding, errors this stream, perhaps
  // while nothing reads it (the request was refused, or waits on a lock). Unheard, that error
  // would end the process; readers still see it through the stream.
  body.on('error', () => {});
  return body;
}

/**
 * The socket's body behind a stream of its own: a reader that stops early (a body over the
 * limit) destroys only that, and the rest of the body is drained (by the server adapter, within
 * its bounds) so the keep-alive connection can carry the 413 and the next request.
 */
function detachable(incoming: IncomingMessage): Readable {
  const body = new PassThrough();
  incoming.on('error', (err) => body.destroy(err));
  incoming.pipe(body);
  body.on('close', () => {
    if (incoming.readableEnded) return;
    incoming.unpipe(body);
    incoming.resume();
  });
  return body;
}
