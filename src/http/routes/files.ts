import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { bareEtag, quoteEtag } from '../../core/etag.js';
import { BatonError } from '../../core/errors.js';
import { parseUrlPath, type BatonPath } from '../../core/paths.js';
import type { Core } from '../../server/core.js';
import { deleteResponse, writeResponse } from '../../service/responses.js';
import { BufferedBody } from '../../storage/buffered-body.js';
import type { EntryMeta } from '../../storage/driver.js';
import type { AppEnv } from '../env.js';
import { bodyCutOff, intQuery } from '../json-body.js';
import { rawSuffix } from '../raw-path.js';
import { requestBody } from '../request-body.js';

/** The path after a route prefix, noted for the audit entry before it is judged. */
export function pathFrom(c: Context<AppEnv>, prefix: string, opts: { allowRoot?: boolean } = {}): BatonPath {
  const raw = rawSuffix(c, prefix);
  const ctx = c.get('ctx');
  try {
    ctx.audit.path = decodeURIComponent(raw).slice(0, 1100);
  } catch {
    ctx.audit.path = raw.slice(0, 1100);
  }
  return parseUrlPath(raw, opts);
}

function fileHeaders(e: EntryMeta): Record<string, string> {
  const h: Record<string, string> = {
    'Content-Type': e.mimeType ?? 'application/octet-stream',
    'Content-Length': String(e.size),
    'Last-Modified': new Date(e.modifiedAt).toUTCString(),
  };
  if (e.etag) h.ETag = quoteEtag(e.etag);
  if (e.version !== null) h['Baton-Version'] = String(e.version);
  return h;
}

export function filesRoutes(core: Core) {
  const app = new Hono<AppEnv>();
  const PREFIX = '/v1/files';

  app.put(`${PREFIX}/*`, async (c) => {
    const path = pathFrom(c, PREFIX);
    const declared = c.req.header('content-length');
    if (declared !== undefined && Number(declared) > core.settings.maxBodyBytes) {
      throw new BatonError('payload_too_large', `body is larger than ${core.settings.maxBodyBytes} bytes`);
    }
    const ifMatch = c.req.header('if-match');
    const ifNoneMatch = c.req.header('if-none-match');
    if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
      throw new BatonError('bad_request', 'If-None-Match on a write supports only *');
    }
    const body = requestBody(c);
    const { entry, created } = await core.files
      .put(c.get('ctx'), path, body, {
        mimeType: c.req.header('content-type')?.trim() || undefined,
        declaredBytes: declared === undefined ? undefined : Number(declared),
        ifMatch: ifMatch === undefined ? undefined : bareEtag(ifMatch),
        ifNoneMatch: ifNoneMatch !== undefined,
      })
      .catch((err: unknown) => {
        throw body.errored && !(err instanceof BatonError) ? bodyCutOff() : err;
      });
    c.header('ETag', quoteEtag(entry.etag!));
    return c.json(writeResponse(entry), created ? 201 : 200);
  });

  app.on('HEAD', `${PREFIX}/*`, async (c) => {
    const entry = await core.files.stat(c.get('ctx'), pathFrom(c, PREFIX));
    if (entry.type === 'directory') throw new BatonError('bad_request', `${entry.path} is a directory`);
    return c.body(null, 200, fileHeaders(entry));
  });

  app.get(`${PREFIX}/*`, async (c) => {
    const path = pathFrom(c, PREFIX);
    const { entry, body } = await core.files.get(c.get('ctx'), path, { version: intQuery(c, 'version') });
    const inm = c.req.header('if-none-match');
    if (inm && entry.etag && inm.split(',').some((t) => bareEtag(t) === entry.etag)) {
      body.destroy();
      return c.body(null, 304, { ETag: quoteEtag(entry.etag) });
    }
    if (body instanceof BufferedBody) return c.body(body.bytes as Uint8Array<ArrayBuffer>, 200, fileHeaders(entry));
    return c.body(Readable.toWeb(body) as ReadableStream, 200, fileHeaders(entry));
  });

  app.delete(`${PREFIX}/*`, async (c) => {
    const ifMatch = c.req.header('if-match');
    const entry = await core.files.delete(c.get('ctx'), pathFrom(c, PREFIX), {
      ifMatch: ifMatch === undefined ? undefined : bareEtag(ifMatch),
    });
    return c.json(deleteResponse(entry));
  });

  return app;
}
