import { Hono } from 'hono';
import type { Core } from '../../server/core.js';
import { claimSchema, completeSchema, failSchema, heartbeatSchema } from '../../service/tickets.js';
import type { AppEnv } from '../env.js';
import { readJson } from '../json-body.js';

export function ticketRoutes(core: Core) {
  const app = new Hono<AppEnv>();

  app.post('/v1/tickets/claim', async (c) => {
    const ticket = await core.tickets.claim(c.get('ctx'), await readJson(c, claimSchema));
    return ticket ? c.json(ticket) : c.body(null, 204);
  });
  app.post('/v1/tickets/heartbeat', async (c) => c.json(await core.tickets.heartbeat(c.get('ctx'), await readJson(c, heartbeatSchema))));
  app.post('/v1/tickets/complete', async (c) => c.json(await core.tickets.complete(c.get('ctx'), await readJson(c, completeSchema))));
  app.post('/v1/tickets/fail', async (c) => c.json(await core.tickets.fail(c.get('ctx'), await readJson(c, failSchema))));

  return app;
}
