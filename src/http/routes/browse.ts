import { Hono } from 'hono';
import { MoveBody, RestoreBody } from '../../api/schemas.js';
import type { Context } from 'hono';
import { parsePath, ROOT, type BatonPath } from '../../core/paths.js';
import type { Core } from '../../server/core.js';
import { moveResponse, restoreResponse } from '../../service/responses.js';
import type { AppEnv } from '../env.js';
import { intQuery, readJson } from '../json-body.js';
import { pathFrom } from './files.js';


function flag(v: string | undefined): boolean {
  return v === '1' || v === 'true';
}

/** Listing, search, move and versions: the read-mostly routes over a workspace tree. */
export function browseRoutes(core: Core) {
  const app = new Hono<AppEnv>();

  const list = async (c: Context<AppEnv>, dir: BatonPath) => {
    return c.json(
      await core.files.list(c.get('ctx'), dir, {
        recursive: flag(c.req.query('recursive')),
        cursor: c.req.query('cursor'),
        limit: intQuery(c, 'limit'),
      }),
    );
  };
  app.get('/v1/list', (c) => list(c, ROOT));
  app.get('/v1/list/*', (c) => list(c, pathFrom(c, '/v1/list', { allowRoot: true })));

  app.get('/v1/search', async (c) => {
    const rootRaw = c.req.query('root') ?? '/';
    c.get('ctx').audit.path = rootRaw.slice(0, 1100);
    const root = parsePath(rootRaw, { allowRoot: true });
    const exclude = c.req.queries('exclude') ?? [];
    return c.json(
      await core.files.search(c.get('ctx'), root, {
        glob: c.req.query('glob') || undefined,
        q: c.req.query('q') || undefined,
        limit: intQuery(c, 'limit'),
        cursor: c.req.query('cursor'),
        exclude,
      }),
    );
  });

  app.post('/v1/move', async (c) => {
    const body = await readJson(c, MoveBody);
    c.get('ctx').audit.path = `${body.from} -> ${body.to}`.slice(0, 2200);
    const from = parsePath(body.from);
    const to = parsePath(body.to);
    const { to: entry } = await core.files.move(c.get('ctx'), from, to, body.overwrite ?? false);
    return c.json(moveResponse(from.full, entry));
  });

  app.get('/v1/versions/*', async (c) => {
    const versions = await core.files.versions(c.get('ctx'), pathFrom(c, '/v1/versions'));
    return c.json({ versions });
  });

  app.post('/v1/restore', async (c) => {
    const body = await readJson(c, RestoreBody);
    c.get('ctx').audit.path = body.path.slice(0, 1100);
    const { entry, restoredFrom, created } = await core.files.restore(c.get('ctx'), parsePath(body.path), body.version);
    return c.json(restoreResponse(entry, restoredFrom), created ? 201 : 200);
  });

  return app;
}

