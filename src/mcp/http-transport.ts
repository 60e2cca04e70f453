import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono, type Context } from 'hono';
import { BatonError } from '../core/errors.js';
import { requirePrincipal } from '../core/context.js';
import type { AppEnv } from '../http/env.js';
import { readCapped } from '../http/json-body.js';
import { requestBody } from '../http/request-body.js';
import type { Core } from '../server/core.js';
import type { Principal } from '../auth/principal.js';
import { CoreBackend } from './core-backend.js';
import { directToolCall, rpcErrorOf, type DirectCall } from './direct-call.js';
import { authInfoFor, callTool, createMcpServer } from './server.js';
import { McpSessions } from './sessions.js';

/** JSON-RPC bodies above this are refused before parsing (a write_file of the largest file, escaped). */
function bodyLimit(core: Core): number {
  return core.settings.maxBodyBytes * 2 + 64 * 1024;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '::', '[::]']);

function originOf(value: string): string | null {
  try {
    const u = new URL(value);
    return u.origin === 'null' ? null : u.origin.toLowerCase();
  } catch {
    return null;
  }
}

/** `BATON_MCP_ALLOWED_ORIGINS`: comma-separated origins (`*` allows any). */
export function allowedOrigins(env: NodeJS.ProcessEnv = process.env): { any: boolean; set: Set<string> } {
  const items = (env.BATON_MCP_ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { any: items.includes('*'), set: new Set(items.map((s) => originOf(s) ?? s.toLowerCase())) };
}

/**
 * The server's own origins: http://HOST:PORT for the address it listens on and the port this
 * request arrived on; for a loopback or wildcard bind, the loopback names too. Judged from the
 * socket, never from the Host header, which is what a DNS-rebinding page controls.
 */
function ownOrigins(c: Context<AppEnv>, host: string): Set<string> {
  const sock = (c.env as { incoming?: { socket?: { localPort?: number; localAddress?: string } } } | undefined)?.incoming?.socket;
  const port = sock?.localPort;
  const out = new Set<string>();
  if (!port) return out;
  const hosts = new Set<string>([host]);
  if (LOOPBACK.has(host)) for (const h of ['127.0.0.1', 'localhost', '[::1]']) hosts.add(h);
  if (sock.localAddress) hosts.add(sock.localAddress.replace(/^::ffff:/, ''));
  for (const h of hosts) {
    const name = h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
    const o = originOf(`http://${name}:${port}`);
    if (o) out.add(o);
  }
  return out;
}

/**
 * Browsers send `Origin` on cross-site requests; a page on another site (or a DNS-rebinding
 * one) must not drive a local agent's key. No Origin (CLI clients, SDKs) is fine.
 */
function checkOrigin(c: Context<AppEnv>, host: string, allowed: { any: boolean; set: Set<string> }): void {
  const origin = c.req.header('origin');
  if (origin === undefined || allowed.any) return;
  const o = originOf(origin);
  if (o && (allowed.set.has(o) || ownOrigins(c, host).has(o))) return;
  throw new BatonError('forbidden', `Origin ${origin.slice(0, 200)} is not allowed to use /mcp (set BATON_MCP_ALLOWED_ORIGINS to allow it)`);
}

/**
 * The request body, read from Node's request itself (see requestBody) with the JSON bodies' cap.
 * The bytes are left on the request as `rawBody`, from which @hono/node-server builds the web
 * `Request` should the SDK's transport still ask for it.
 */
async function readBody(c: Context<AppEnv>, limit: number): Promise<string> {
  const tooLarge = `MCP requests are limited to ${limit} bytes`;
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > limit) throw new BatonError('payload_too_large', tooLarge);
  const bytes = await readCapped(requestBody(c), limit, tooLarge);
  const incoming = (c.env as Partial<AppEnv['Bindings']> | undefined)?.incoming;
  if (incoming) Object.assign(incoming, { rawBody: bytes });
  return bytes.toString('utf8');
}

function jsonRpcError(c: Context<AppEnv>, status: 400 | 404, code: number, message: string) {
  return c.json({ jsonrpc: '2.0', error: { code, message }, id: null }, status);
}

type Message = { method?: unknown; params?: { name?: unknown } };

/** Requests whose one unit of work (a tool call, a resource read, …) is audited by the request's own entry. */
const SINGLE_UNIT = new Set(['resources/read', 'resources/list', 'resources/subscribe']);

/** What the request's own audit entry should say, and whether it is exactly one unit of work. */
function describeRequest(body: unknown): { action: string; unit: boolean; initialize: boolean } {
  if (Array.isArray(body)) return { action: 'mcp.batch', unit: false, initialize: false };
  const m = (body ?? {}) as Message;
  if (m.method === 'tools/call' && typeof m.params?.name === 'string') return { action: `mcp.${m.params.name.slice(0, 64)}`, unit: true, initialize: false };
  if (typeof m.method !== 'string') return { action: 'mcp.message', unit: false, initialize: false };
  return { action: `mcp.${m.method.slice(0, 64)}`, unit: SINGLE_UNIT.has(m.method), initialize: m.method === 'initialize' };
}

const SESSION_HEADER = 'mcp-session-id';

/**
 * `/mcp`: MCP over Streamable HTTP, with the same bearer key as REST. Mounted after authentication.
 *
 * An `initialize` opens a session (sessions.ts): the answer carries `Mcp-Session-Id`, later
 * requests send it, `GET /mcp` with it opens the stream that carries resource-change
 * notifications, and `DELETE /mcp` ends it. A session belongs to the key that opened it. A
 * request without a session id is answered on its own, statelessly, as before sessions
 * existed. Answers to POSTs are plain JSON either way. A POST holding one plain tools/call, what
 * clients send for nearly every call, is answered by the tool directly with the answer the SDK
 * would give (direct-call.ts); everything else goes through the SDK's transport and server.
 *
 * Audit: one entry per unit of work. A request holding a single tools/call (what MCP clients
 * send), resources/read, resources/list or resources/subscribe is audited by the request's own
 * entry, which the unit fills in (action, path, outcome, code); other requests (initialize,
 * tools/list, notifications) get their one request entry (`mcp.initialize`, …); in a batch,
 * each unit gets its own entry.
 */
export function mcpRoutes(core: Core): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const origins = allowedOrigins();
  const limit = bodyLimit(core);
  const onInternalError = (err: unknown) => core.log.error({ err }, 'mcp tool failed');
  const sessions = new McpSessions(core, onInternalError);

  /** The request's backend: its principal and audit scope. */
  const backendFor = (c: Context<AppEnv>, principal: Principal, unit: boolean) =>
    new CoreBackend(core, principal, {
      ctx: c.get('ctx'),
      shareable: unit,
      fail: (err) => {
        c.error = err instanceof Error ? err : new Error(String(err));
      },
    });
  /** The same, as auth info for the SDK server's handlers. */
  const authInfo = (c: Context<AppEnv>, principal: Principal, unit: boolean) => authInfoFor(backendFor(c, principal, unit), c.get('ctx').actor);

  /** A lone tools/call answered by the tool itself, exactly as the SDK's server would answer it. */
  const answerDirect = async (c: Context<AppEnv>, call: DirectCall, principal: Principal, sessionId: string | undefined) => {
    let message: object;
    try {
      const result = await callTool(backendFor(c, principal, true), call.name, call.args, { onInternalError });
      message = { result, jsonrpc: '2.0', id: call.id };
    } catch (err) {
      message = { jsonrpc: '2.0', id: call.id, error: rpcErrorOf(err) };
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (sessionId !== undefined) headers['mcp-session-id'] = sessionId;
    return c.body(JSON.stringify(message), 200, headers);
  };

  const noSession = (c: Context<AppEnv>) =>
    jsonRpcError(c, 404, -32001, 'Session not found: it ended or belongs to another key or server; send initialize again');

  app.post('/mcp', async (c) => {
    const ctx = c.get('ctx');
    ctx.audit.action = 'mcp.request';
    checkOrigin(c, core.settings.host, origins);
    const principal = requirePrincipal(ctx);
    const text = await readBody(c, limit);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return jsonRpcError(c, 400, -32700, 'Parse error: Invalid JSON');
    }
    const what = describeRequest(body);
    ctx.audit.action = what.action;
    const sessionId = c.req.header(SESSION_HEADER);
    const session = sessionId === undefined ? undefined : sessions.get(sessionId, principal);
    if (sessionId !== undefined && !session) return noSession(c);
    const call = directToolCall(body, (name) => c.req.header(name));
    if (call) return answerDirect(c, call, principal, sessionId);
    const auth = authInfo(c, principal, what.unit);
    if (session) return session.transport.handleRequest(c.req.raw, { parsedBody: body, authInfo: auth });
    if (what.initialize) {
      const opened = await sessions.open(principal, ctx.recheck);
      const res = await opened.transport.handleRequest(c.req.raw, { parsedBody: body, authInfo: auth });
      if (!opened.transport.sessionId) await sessions.discard(opened);
      return res;
    }
    // No session: a server and transport for this request alone.
    const server = createMcpServer({ onInternalError });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw, { parsedBody: body, authInfo: auth });
    } finally {
      void server.close();
    }
  });

  // GET opens a session's notification stream; DELETE ends the session.
  const sessionRequest = async (c: Context<AppEnv>) => {
    const ctx = c.get('ctx');
    ctx.audit.action = `mcp.${c.req.method.toLowerCase()}`;
    checkOrigin(c, core.settings.host, origins);
    const principal = requirePrincipal(ctx);
    const sessionId = c.req.header(SESSION_HEADER);
    if (sessionId === undefined) {
      return jsonRpcError(c, 400, -32000, `Bad Request: ${c.req.method} /mcp needs the Mcp-Session-Id header that initialize returned`);
    }
    const session = sessions.get(sessionId, principal);
    if (!session) return noSession(c);
    const res = await session.transport.handleRequest(c.req.raw, { authInfo: authInfo(c, principal, false) });
    if (c.req.method === 'GET' && res.ok && res.headers.get('content-type')?.startsWith('text/event-stream')) {
      sessions.streamChanged(session, true);
      c.req.raw.signal.addEventListener('abort', () => sessions.streamChanged(session, false), { once: true });
    }
    return res;
  };
  app.get('/mcp', sessionRequest);
  app.delete('/mcp', sessionRequest);
  return app;
}
