import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  ResourceUpdatedNotificationSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type ListResourcesResult,
  type ListResourceTemplatesResult,
  type ReadResourceResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { plainToolCall, rpcErrorOf } from './direct-call.js';
import { errorResult, RpcError, type ToolError } from './errors.js';
import { keepAliveFetch } from './keep-alive-fetch.js';
import { INSTRUCTIONS, SERVER_VERSION } from './server.js';

/** How often a relay with subscriptions tries to open a new session while the server is away. */
const REVIVE_MS = 1000;

/** Longer than the longest wait_for_changes a call may ask for, so the relay never cuts one short. */
const CALL_TIMEOUT_MS = 15 * 60_000;

/** A result relayed without looking inside. */
const AS_SENT = z.looseObject({});

/** What went wrong talking to the server, in Baton's error codes. */
function failureOf(err: unknown, url: string): ToolError {
  const msg = err instanceof Error ? err.message : String(err);
  const body = /(\{"error":\{.*\}\})/.exec(msg)?.[1];
  if (body) {
    try {
      const e = (JSON.parse(body) as { error: Partial<ToolError> }).error;
      if (e.code && e.message) return { code: e.code, message: e.message };
    } catch {
      // not Baton's error body after all
    }
  }
  if (/\b401\b/.test(msg)) return { code: 'unauthorized', message: msg };
  if (/\b403\b/.test(msg)) return { code: 'forbidden', message: msg };
  if (/fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT/i.test(msg)) return { code: 'unavailable', message: `cannot reach ${url}: ${msg}` };
  return { code: 'internal', message: `${url}/mcp: ${msg}` };
}

/** The server forgot the session (it restarted, or closed an idle one): a new one is needed. */
function sessionLost(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 404 || (err instanceof Error && /Session not found/.test(err.message));
}

/**
 * The running Baton's `/mcp`, reached with one key over one session. Connected on first use and
 * again after a failure, so `baton mcp` starts (and answers `initialize`) while the server is
 * still down. Resource subscriptions are remembered and made again on a new session.
 */
class RemoteMcp {
  private client: Promise<Client> | null = null;
  private tools: Promise<Tool[]> | null = null;
  private readonly subscribed = new Set<string>();
  private readonly http = keepAliveFetch();
  private closed = false;
  private reviving = false;

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly onUpdated: (uri: string) => void,
  ) {}

  private connect(): Promise<Client> {
    this.client ??= (async () => {
      const client = new Client({ name: 'baton-mcp-stdio', version: SERVER_VERSION });
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => this.onUpdated(n.params.uri));
      client.onerror = (err) => this.streamFailed(err);
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${this.key}` } },
          fetch: this.http.fetch,
          // Loopback or LAN: a lost stream is retried soon, and given up (then a new session opened) within 2 s.
          reconnectionOptions: { initialReconnectionDelay: 250, maxReconnectionDelay: 5_000, reconnectionDelayGrowFactor: 2, maxRetries: 3 },
        }),
      );
      for (const uri of this.subscribed) await client.subscribeResource({ uri });
      return client;
    })();
    this.client.catch(() => (this.client = null));
    return this.client;
  }

  private dropClient(): void {
    const stale = this.client;
    this.client = null;
    void stale?.then((c) => c.close()).catch(() => undefined);
  }

  /** Run `fn` on the session; once more on a new session if the server no longer knows this one. */
  private async withClient<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      return await fn(client);
    } catch (err) {
      if (!sessionLost(err)) throw err;
      this.dropClient();
      return fn(await this.connect());
    }
  }

  /**
   * The notification stream broke for good (the server restarted and forgot the session, or
   * stayed away past the SDK's reconnection attempts): with subscriptions to keep, open a new
   * session now rather than at the next request, and keep trying while the server is down.
   */
  private streamFailed(err: unknown): void {
    const gaveUp = err instanceof Error && /Maximum reconnection attempts/.test(err.message);
    if (this.closed || this.subscribed.size === 0 || this.reviving || !(gaveUp || sessionLost(err))) return;
    this.reviving = true;
    void (async () => {
      try {
        while (!this.closed && this.subscribed.size > 0) {
          this.dropClient();
          try {
            await this.connect();
            // What changed while no session existed was reported to no one: tell the host each may have.
            for (const uri of this.subscribed) this.onUpdated(uri);
            return;
          } catch {
            await new Promise((r) => setTimeout(r, REVIVE_MS));
          }
        }
      } finally {
        this.reviving = false;
      }
    })();
  }

  /** The key's tools, as the server lists them; fixed for a key's lifetime, so asked once. */
  listTools(): Promise<Tool[]> {
    this.tools ??= this.withClient((c) => c.listTools().then((r) => r.tools));
    this.tools.catch(() => (this.tools = null));
    return this.tools;
  }

  /**
   * The server's result as it sent it: the host's own client checks it against the tool's
   * schemas, so parsing and validating it here as well would only spend the relay's time.
   */
  callTool(params: { name: string; arguments?: Record<string, unknown> }, signal: AbortSignal): Promise<CallToolResult> {
    return this.withClient(async (c) => (await c.request({ method: 'tools/call', params }, AS_SENT, { signal, timeout: CALL_TIMEOUT_MS })) as CallToolResult);
  }

  listResources(cursor: string | undefined, signal: AbortSignal): Promise<ListResourcesResult> {
    return this.withClient((c) => c.listResources(cursor === undefined ? {} : { cursor }, { signal }));
  }

  listResourceTemplates(signal: AbortSignal): Promise<ListResourceTemplatesResult> {
    return this.withClient((c) => c.listResourceTemplates({}, { signal }));
  }

  readResource(uri: string, signal: AbortSignal): Promise<ReadResourceResult> {
    return this.withClient((c) => c.readResource({ uri }, { signal }));
  }

  async subscribe(uri: string, signal: AbortSignal): Promise<void> {
    await this.withClient((c) => c.subscribeResource({ uri }, { signal }));
    this.subscribed.add(uri);
  }

  async unsubscribe(uri: string, signal: AbortSignal): Promise<void> {
    this.subscribed.delete(uri);
    await this.withClient((c) => c.unsubscribeResource({ uri }, { signal }));
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = null;
    if (c) await (await c.catch(() => null))?.close();
    this.http.close();
  }
}

/**
 * `baton mcp`: an MCP server on stdin/stdout for one key, relaying every request to a running
 * Baton's `/mcp` (`url`) and the server's resource notifications back. The server lists,
 * authorizes, runs, audits and emits events for each call exactly as for an HTTP client, so
 * both transports give the same answers by construction. Nothing but MCP messages is written
 * to stdout; diagnostics go to stderr.
 */
export async function runStdioServer(opts: { url: string; key: string }): Promise<void> {
  const url = opts.url.replace(/\/+$/, '');
  const server = new Server(
    { name: 'baton', title: 'Baton', version: SERVER_VERSION },
    { capabilities: { tools: {}, resources: { subscribe: true } }, instructions: INSTRUCTIONS },
  );
  const remote = new RemoteMcp(url, opts.key, (uri) => void server.sendResourceUpdated({ uri }).catch(() => undefined));
  /** The server's JSON-RPC error as the server sent it; anything else (unreachable, …) in Baton's words. */
  const relayed = (err: unknown): RpcError => {
    // The SDK client put "MCP error <code>: " in front of what the server sent: take exactly that off.
    if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed && err.code !== ErrorCode.RequestTimeout) {
      return new RpcError(err.code, err.message.replace(/^MCP error -?\d+: /, ''), err.data);
    }
    const f = failureOf(err, url);
    return new RpcError(ErrorCode.InternalError, `${f.code}: ${f.message}`, { code: f.code });
  };
  const relay = <T>(p: Promise<T>): Promise<T> => p.catch((err: unknown) => Promise.reject(relayed(err)));
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: await relay(remote.listTools()) }));
  const callTool = async (params: { name: string; arguments?: Record<string, unknown> }, signal: AbortSignal): Promise<CallToolResult> => {
    try {
      return await remote.callTool(params, signal);
    } catch (err) {
      // A JSON-RPC error from the server (an unknown tool) stays one; failing to reach it is a refused call.
      if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed && err.code !== ErrorCode.RequestTimeout) throw relayed(err);
      return errorResult(failureOf(err, url));
    }
  };
  server.setRequestHandler(CallToolRequestSchema, (req, extra) => callTool({ name: req.params.name, arguments: req.params.arguments }, extra.signal));
  server.setRequestHandler(ListResourcesRequestSchema, (req, extra) => relay(remote.listResources(req.params?.cursor, extra.signal)));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, (_req, extra) => relay(remote.listResourceTemplates(extra.signal)));
  server.setRequestHandler(ReadResourceRequestSchema, (req, extra) => relay(remote.readResource(req.params.uri, extra.signal)));
  server.setRequestHandler(SubscribeRequestSchema, async (req, extra) => {
    await relay(remote.subscribe(req.params.uri, extra.signal));
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (req, extra) => {
    await relay(remote.unsubscribe(req.params.uri, extra.signal));
    return {};
  });
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  const transport = new StdioServerTransport();
  await server.connect(transport);
  relayToolCallsDirectly(transport, callTool);
  await closed;
  await server.close().catch(() => undefined);
  await remote.close().catch(() => undefined);
}

/**
 * A plain tools/call (direct-call.ts), nearly every message a host sends, goes to the server
 * as soon as it is read, and the answer back as it came: the SDK server's parsing of the call
 * and of the result, and its per-request bookkeeping, are skipped. Such a call needs nothing
 * else from it; a cancellation the host sends for one is honoured here, as the server would.
 * Every other message, odd tools/calls included, goes to the SDK server as before.
 */
function relayToolCallsDirectly(
  transport: StdioServerTransport,
  callTool: (params: { name: string; arguments?: Record<string, unknown> }, signal: AbortSignal) => Promise<CallToolResult>,
): void {
  const toServer = transport.onmessage!;
  const inFlight = new Map<string | number, AbortController>();
  transport.onmessage = (message) => {
    const call = plainToolCall(message);
    if (!call) {
      const m = message as { method?: string; params?: { requestId?: string | number; reason?: unknown } };
      if (m.method === 'notifications/cancelled' && m.params?.requestId !== undefined) inFlight.get(m.params.requestId)?.abort(m.params.reason);
      toServer(message);
      return;
    }
    const ac = new AbortController();
    inFlight.set(call.id, ac);
    const params = call.args === undefined ? { name: call.name } : { name: call.name, arguments: call.args };
    void callTool(params, ac.signal)
      .then(
        (result) => ({ result, jsonrpc: '2.0' as const, id: call.id }),
        (err: unknown) => ({ jsonrpc: '2.0' as const, id: call.id, error: rpcErrorOf(err) }),
      )
      .then((answer) => {
        if (inFlight.get(call.id) === ac) inFlight.delete(call.id);
        // A cancelled request is not answered.
        if (!ac.signal.aborted) return transport.send(answer);
      })
      .catch((err: unknown) => transport.onerror?.(err instanceof Error ? err : new Error(String(err))));
  };
}
