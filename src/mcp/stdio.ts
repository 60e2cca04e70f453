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
import { errorResult, RpcError, type ToolError } from './errors.js';
import { keepAliveFetch } from './keep-alive-fetch.js';
import { INSTRUCTIONS, SERVER_VERSION } from './server.js';

/** How often a relay with subscriptions tries to open a new session while the server is away. */
const REVIVE_MS = 1000;

/** Longer than the longest wait_for_changes a call may ask for, so the relay never cuts one short. */
const CALL_TIMEOUT_MS = 15 * 60_000;

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

  callTool(params: { name: string; arguments?: Record<string, unknown> }, signal: AbortSignal): Promise<CallToolResult> {
    return this.withClient(async (c) => (await c.callTool(params, undefined, { signal, timeout: CALL_TIMEOUT_MS })) as CallToolResult);
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
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    try {
      return await remote.callTool({ name: req.params.name, arguments: req.params.arguments }, extra.signal);
    } catch (err) {
      // A JSON-RPC error from the server (an unknown tool) stays one; failing to reach it is a refused call.
      if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed && err.code !== ErrorCode.RequestTimeout) throw relayed(err);
      return errorResult(failureOf(err, url));
    }
  });
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
  await server.connect(new StdioServerTransport());
  await closed;
  await server.close().catch(() => undefined);
  await remote.close().catch(() => undefined);
}
