import { Hono } from 'hono';
import type { Core } from '../../server/core.js';
import type { AppEnv } from '../env.js';
import { openApiDocument } from '../openapi.js';

/** Unauthenticated operational routes: liveness, readiness, metrics and the API description. */
export function healthRoutes(core: Core) {
  const app = new Hono<AppEnv>();

  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/readyz', async (c) => {
    const redis = await core.redis
      .ping()
      .then(() => 'ok')
      .catch((err: Error) => `unavailable: ${err.message}`);
    const workspaces: Record<string, string> = {};
    await Promise.all(
      core.workspaces.list().map(async (ws) => {
        workspaces[ws.def.name] = await ws.driver
          .check()
          .then(() => 'ok')
          .catch((err: Error) => `unavailable: ${err.message}`);
      }),
    );
    const ok = redis === 'ok' && Object.values(workspaces).every((s) => s === 'ok');
    const none = core.workspaces.emptyReason();
    return c.json({ ok, redis, workspaces, ...(none ? { warnings: [none] } : {}) }, ok ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    return c.body(await core.metrics.registry.metrics(), 200, { 'Content-Type': core.metrics.registry.contentType });
  });

  app.get('/openapi.json', (c) => c.json(openApiDocument));

  return app;
}
