import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono, type Context } from 'hono';
import { BatonError } from '../core/errors.js';
import { requirePrincipal } from '../core/context.js';
import type { AppEnv } from '../http/env.js';
import type { Core } from '../server/core.js';
import { CoreBackend } from './core-backend.js';
import { createMcpServer } from './server.js';

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

async function readBody(c: Context<AppEnv>, limit: number): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? 0);
  if (declared > limit) throw new BatonError('payload_too_large', `MCP requests are limited to ${limit} bytes`);
  const body = c.req.raw.body;
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    n += chunk.byteLength;
    if (n > limit) throw new BatonError('payload_too_large', `MCP requests are limited to ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, n).toString('utf8');
}

function jsonRpcError(c: Context<AppEnv>, status: 400 | 405, code: number, message: string) {
  return c.json({ jsonrpc: '2.0', error: { code, message }, id: null }, status);
}

type Message = { method?: unknown; params?: { name?: unknown } };

/** What the request's own audit entry should say, and whether it is exactly one tool call. */
function describeRequest(body: unknown): { action: string; toolCall: boolean } {
  if (Array.isArray(body)) return { action: 'mcp.batch', toolCall: false };
  const m = (body ?? {}) as Message;
  if (m.method === 'tools/call' && typeof m.params?.name === 'string') return { action: `mcp.${m.params.name.slice(0, 64)}`, toolCall: true };
  return { action: typeof m.method === 'string' ? `mcp.${m.method.slice(0, 64)}` : 'mcp.message', toolCall: false };
}

/**
 * `POST /mcp`: MCP over Streamable HTTP, stateless (a fresh server and transport per request,
 * answers as plain JSON), with the same bearer key as REST. Mounted after authentication.
 *
 * Audit: one entry per tool call. A request holding a single tools/call (what MCP clients
 * send) is audited by the request's own entry, which the tool call fills in (action, path,
 * outcome, code); other requests (initialize, tools/list, notifications) get their one
 * request entry (`mcp.initialize`, …); in a batch, each tool call gets its own entry.
 */
export function mcpRoutes(core: Core): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const origins = allowedOrigins();
  const limit = bodyLimit(core);
  const onInternalError = (err: unknown) => core.log.error({ err }, 'mcp tool failed');

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
    const backend = new CoreBackend(core, principal, {
      ctx,
      shareable: what.toolCall,
      fail: (err) => {
        c.error = err instanceof Error ? err : new Error(String(err));
      },
    });
    const server = createMcpServer(backend, { onInternalError });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw, { parsedBody: body });
    } finally {
      void server.close();
    }
  });

  // Stateless: no server-initiated stream to resume and no session to end.
  const notAllowed = (c: Context<AppEnv>) => {
    c.get('ctx').audit.action = `mcp.${c.req.method.toLowerCase()}`;
    c.header('Allow', 'POST');
    return jsonRpcError(c, 405, -32000, 'Method not allowed: this server is stateless; POST JSON-RPC messages to /mcp');
  };
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);
  return app;
}
