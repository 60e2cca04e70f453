import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { toBatonError } from '../../core/errors.js';
import type { Core } from '../../server/core.js';
import { encodeEventCursor } from '../../service/events.js';
import { newSubscriptionSchema, replaySchema } from '../../service/subscriptions.js';
import type { AppEnv } from '../env.js';
import { intQuery, readJson } from '../json-body.js';

const SSE_POLL_SECONDS = 25;

/** Event log reads (long-poll and SSE) and webhook subscriptions. */
export function eventRoutes(core: Core) {
  const app = new Hono<AppEnv>();

  app.get('/v1/events', async (c) => {
    return c.json(
      await core.events.read(c.get('ctx'), {
        glob: c.req.query('path') || undefined,
        after: c.req.query('after') || undefined,
        waitSeconds: intQuery(c, 'wait'),
        limit: intQuery(c, 'limit'),
      }),
    );
  });

  app.get('/v1/events/stream', async (c) => {
    const ctx = c.get('ctx');
    const { glob, workspaces, cursor } = await core.events.startCursor(ctx, {
      glob: c.req.query('path') || undefined,
      after: c.req.header('last-event-id') || c.req.query('after') || undefined,
    });
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
      });
      // The first frame carries the starting cursor, so a client that sees no event yet can still resume.
      await stream.writeSSE({ event: 'ready', data: '{}', id: encodeEventCursor(cursor) });
      // A stream ends when Baton shuts down; the client resumes from the last id elsewhere.
      while (open && !core.events.closed) {
        // `work` also moves past events this key may not see; each frame's id covers only
        // what was sent before it, so a resume never skips a visible event.
        const work = { ...cursor };
        let events;
        try {
          // A key revoked while the stream is open gets an error frame, then nothing more.
          await ctx.recheck?.();
          events = await core.events.page(ctx, glob, workspaces, work, 100, SSE_POLL_SECONDS);
        } catch (err) {
          await stream.writeSSE({ event: 'error', data: JSON.stringify(toBatonError(err).toJSON()) });
          break;
        }
        if (!open) break;
        for (const e of events) {
          cursor[e.workspace] = e.seq;
          await stream.writeSSE({ event: e.event, data: JSON.stringify(e), id: encodeEventCursor(cursor) });
        }
        Object.assign(cursor, work);
        if (events.length === 0) await stream.writeSSE({ event: 'ping', data: '{}' });
      }
    });
  });

  app.post('/v1/subscriptions', async (c) => {
    const body = await readJson(c, newSubscriptionSchema);
    return c.json(await core.subscriptions.create(c.get('ctx'), body), 201);
  });

  app.get('/v1/subscriptions', async (c) => c.json({ subscriptions: await core.subscriptions.list(c.get('ctx')) }));

  app.get('/v1/subscriptions/:id', async (c) => c.json(await core.subscriptions.get(c.get('ctx'), c.req.param('id'))));

  app.delete('/v1/subscriptions/:id', async (c) => c.json(await core.subscriptions.remove(c.get('ctx'), c.req.param('id'))));

  app.get('/v1/subscriptions/:id/deliveries', async (c) => {
    const deliveries = await core.subscriptions.deliveries(c.get('ctx'), c.req.param('id'), c.req.query('status') || undefined);
    return c.json({ deliveries });
  });

  app.post('/v1/subscriptions/:id/pause', async (c) => c.json(await core.subscriptions.pause(c.get('ctx'), c.req.param('id'))));

  app.post('/v1/subscriptions/:id/resume', async (c) => c.json(await core.subscriptions.resume(c.get('ctx'), c.req.param('id'))));

  app.post('/v1/subscriptions/:id/replay', async (c) => {
    const body = await readJson(c, replaySchema);
    return c.json(await core.subscriptions.replay(c.get('ctx'), c.req.param('id'), body));
  });

  return app;
}
