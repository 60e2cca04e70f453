import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { BatonError } from '../core/errors.js';
import type { AppEnv } from '../http/env.js';

/**
 * Baton's keys are bearer tokens issued by an admin, not OAuth. MCP clients (mcp-remote, the Inspector)
 * probe these discovery documents and, on anything but 404, start an OAuth registration that cannot work.
 */
export function oauthDiscoveryRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const absent = (c: Context<AppEnv>) =>
    c.json(new BatonError('not_found', 'Baton does not use OAuth: send a Baton key as Authorization: Bearer <key>').toJSON(), 404);
  for (const doc of ['oauth-protected-resource', 'oauth-authorization-server']) {
    app.get(`/.well-known/${doc}`, absent);
    app.get(`/.well-known/${doc}/*`, absent);
  }
  return app;
}

/** A refused `/mcp` names its scheme, as MCP's authorization spec expects of a 401. */
export function mcpChallenge(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (c.res.status === 401) c.res.headers.set('WWW-Authenticate', 'Bearer realm="baton"');
  };
}
