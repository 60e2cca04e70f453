import { Hono } from 'hono';
import { NewKeyBody, NewWorkspaceBody } from '../../api/schemas.js';
import type { Core } from '../../server/core.js';
import { AdminService } from '../../service/admin.js';
import type { AppEnv } from '../env.js';
import { readJson } from '../json-body.js';

/** Keys and workspaces: operator routes over the admin service. */
export function adminRoutes(core: Core) {
  const app = new Hono<AppEnv>();
  const admin = new AdminService(core.keys, core.workspaces);

  app.post('/v1/keys', async (c) => c.json(await admin.createKey(c.get('ctx'), () => readJson(c, NewKeyBody)), 201));
  app.get('/v1/keys', async (c) => c.json({ keys: await admin.listKeys(c.get('ctx')) }));
  app.delete('/v1/keys/:id', async (c) => c.json(await admin.revokeKey(c.get('ctx'), c.req.param('id'))));
  app.get('/v1/workspaces', (c) => c.json({ workspaces: admin.listWorkspaces(c.get('ctx')) }));
  app.post('/v1/workspaces', async (c) => c.json(await admin.createWorkspace(c.get('ctx'), () => readJson(c, NewWorkspaceBody)), 201));

  return app;
}
