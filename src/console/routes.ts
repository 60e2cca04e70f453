import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { KeyStore } from '../auth/key-store.js';
import { actorOf } from '../auth/principal.js';
import type { AppEnv } from '../http/env.js';
import { principalFor } from '../http/middleware/authenticate.js';
import { APP_CSS, APP_JS, FAVICON_SVG } from './assets.js';
import { appPage, signInPage } from './pages.js';
import { SESSION_COOKIE, SESSION_TTL_MS, sameToken, type SessionStore } from './session.js';

/** Nothing but this origin's own files: no inline script, no CDN, no framing. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function secureHeaders(c: { header(k: string, v: string): void }): void {
  c.header('Content-Security-Policy', CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('Cache-Control', 'no-store');
}

/**
 * The web console: a sign-in that trades a key for a session cookie, and one page whose script
 * talks to the same REST routes every other client uses.
 */
export function consoleRoutes(keys: KeyStore, adminToken: string, sessions: SessionStore) {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    secureHeaders(c);
    const session = sessions.get(getCookie(c, SESSION_COOKIE));
    if (!session) return c.html(signInPage());
    try {
      const principal = await principalFor(keys, adminToken, session.key);
      return c.html(appPage(actorOf(principal), principal.kind === 'admin', session.csrf));
    } catch {
      // The key was revoked or expired since sign-in.
      sessions.end(getCookie(c, SESSION_COOKIE));
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.html(signInPage('This key is no longer valid. Sign in again.'), 401);
    }
  });

  app.get('/console/app.js', (c) => {
    secureHeaders(c);
    return c.body(APP_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
  app.get('/console/app.css', (c) => {
    secureHeaders(c);
    return c.body(APP_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });

  app.get('/console/favicon.svg', (c) => c.body(FAVICON_SVG, 200, { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'public, max-age=86400' }));
  // Pages name their icon above; this answers browsers and tools that ask the old place anyway,
  // before authentication, so the request is neither a 401 nor an audit entry.
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'Cache-Control': 'public, max-age=86400' }));

  app.post('/console/sign-in', async (c) => {
    secureHeaders(c);
    const ctx = c.get('ctx');
    ctx.audit.action = 'console.sign_in';
    const form = await c.req.parseBody();
    const key = typeof form.key === 'string' ? form.key.trim() : '';
    if (!key) return c.html(signInPage('Paste a key (or the admin token) to sign in.'), 400);
    let principal;
    try {
      principal = await principalFor(keys, adminToken, key);
    } catch {
      return c.html(signInPage('That key was not accepted: check it has not been revoked or expired.'), 401);
    }
    ctx.principal = principal;
    ctx.actor = actorOf(principal);
    sessions.end(getCookie(c, SESSION_COOKIE));
    const { id } = sessions.create(key);
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: Math.floor(SESSION_TTL_MS / 1000),
      secure: new URL(c.req.url).protocol === 'https:',
    });
    return c.redirect('/', 303);
  });

  app.post('/console/sign-out', async (c) => {
    secureHeaders(c);
    c.get('ctx').audit.action = 'console.sign_out';
    const id = getCookie(c, SESSION_COOKIE);
    const session = sessions.get(id);
    const form = await c.req.parseBody();
    if (session && !sameToken(typeof form.csrf === 'string' ? form.csrf : '', session.csrf)) {
      return c.text('sign-out needs the console page’s token: reload and try again', 403);
    }
    sessions.end(id);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });

  return app;
}
