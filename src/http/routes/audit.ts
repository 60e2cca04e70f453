import { Hono } from 'hono';
import type { Core } from '../../server/core.js';
import { AuditService } from '../../service/audit.js';
import type { AppEnv } from '../env.js';
import { intQuery } from '../json-body.js';

export function auditRoutes(core: Core) {
  const app = new Hono<AppEnv>();
  const audit = new AuditService(core.audit);

  app.get('/v1/audit', async (c) =>
    c.json(
      await audit.query(c.get('ctx'), {
        path: c.req.query('path'),
        actor: c.req.query('actor'),
        action: c.req.query('action'),
        since: c.req.query('since'),
        cursor: c.req.query('cursor'),
        limit: intQuery(c, 'limit'),
      }),
    ),
  );

  app.get('/v1/audit/verify', async (c) => c.json(await audit.verify(c.get('ctx'))));

  return app;
}
