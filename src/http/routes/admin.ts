import { Hono } from 'hono';
import { NewKeyBody, NewWorkspaceBody } from '../../api/schemas.js';
import { authorizeAdmin } from '../../auth/authorize.js';
import type { Principal } from '../../auth/principal.js';
import { BatonError } from '../../core/errors.js';
import type { Core } from '../../server/core.js';
import type { AppEnv } from '../env.js';
import { readJson } from '../json-body.js';


function principal(p: Principal | null): Principal {
  if (!p) throw new BatonError('unauthorized', 'no credentials');
  return p;
}

/** Keys and workspaces: operator routes, open to the admin token and keys with an admin grant. */
export function adminRoutes(core: Core) {
  const app = new Hono<AppEnv>();

  app.post('/v1/keys', async (c) => {
    const ctx = c.get('ctx');
    ctx.audit.action = 'key.create';
    authorizeAdmin(principal(ctx.principal));
    const body = await readJson(c, NewKeyBody);
    const { record, key } = await core.keys.create(body);
    ctx.audit.path = `key:${record.id}`;
    return c.json({ ...record, key }, 201);
  });

  app.get('/v1/keys', async (c) => {
    const ctx = c.get('ctx');
    ctx.audit.action = 'key.list';
    authorizeAdmin(principal(ctx.principal));
    return c.json({ keys: await core.keys.list() });
  });

  app.delete('/v1/keys/:id', async (c) => {
    const ctx = c.get('ctx');
    ctx.audit.action = 'key.revoke';
    ctx.audit.path = `key:${c.req.param('id')}`;
    authorizeAdmin(principal(ctx.principal));
    return c.json(await core.keys.revoke(c.req.param('id')));
  });

  app.get('/v1/workspaces', async (c) => {
    const ctx = c.get('ctx');
    ctx.audit.action = 'workspace.list';
    authorizeAdmin(principal(ctx.principal));
    return c.json({
      workspaces: core.workspaces.list().map(({ def }) => ({
        name: def.name,
        id: def.id,
        driver: def.storage.driver,
        folders: def.folders,
        gates: def.gates,
      })),
    });
  });

  app.post('/v1/workspaces', async (c) => {
    const ctx = c.get('ctx');
    ctx.audit.action = 'workspace.create';
    authorizeAdmin(principal(ctx.principal));
    const body = await readJson(c, NewWorkspaceBody);
    const def = await core.workspaces.create(body);
    ctx.audit.path = `/${def.name}`;
    return c.json({ name: def.name, id: def.id, driver: def.storage.driver, folders: def.folders, gates: def.gates }, 201);
  });

  return app;
}
