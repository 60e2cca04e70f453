import { Hono } from 'hono';
import { GateDecisionBody } from '../../api/schemas.js';
import type { Core } from '../../server/core.js';
import type { AppEnv } from '../env.js';
import { readJson } from '../json-body.js';

/** Human gates: the waiting lists, and a human's decision on one item. */
export function gateRoutes(core: Core) {
  const app = new Hono<AppEnv>();
  app.get('/v1/gates', async (c) => c.json({ gates: await core.gates.waiting(c.get('ctx')) }));
  app.post('/v1/gates/approve', async (c) => c.json(await core.gates.approve(c.get('ctx'), await readJson(c, GateDecisionBody))));
  app.post('/v1/gates/reject', async (c) => c.json(await core.gates.reject(c.get('ctx'), await readJson(c, GateDecisionBody))));
  return app;
}
