import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { errorResult, type ToolError } from './errors.js';
import { INSTRUCTIONS, SERVER_VERSION } from './server.js';

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

/**
 * The running Baton's `/mcp`, reached with one key. Connected on first use and again after a
 * failure, so `baton mcp` starts (and answers `initialize`) while the server is still down.
 */
class RemoteMcp {
  private client: Promise<Client> | null = null;
  private tools: Promise<Tool[]> | null = null;

  constructor(
    private readonly url: string,
    private readonly key: string,
  ) {}

  private connect(): Promise<Client> {
    this.client ??= (async () => {
      const client = new Client({ name: 'baton-mcp-stdio', version: SERVER_VERSION });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${this.key}` } } }),
      );
      return client;
    })();
    this.client.catch(() => (this.client = null));
    return this.client;
  }

  /** The key's tools, as the server lists them; fixed for a key's lifetime, so asked once. */
  listTools(): Promise<Tool[]> {
    this.tools ??= this.connect().then((c) => c.listTools().then((r) => r.tools));
    this.tools.catch(() => (this.tools = null));
    return this.tools;
  }

  async callTool(params: { name: string; arguments?: Record<string, unknown> }, signal: AbortSignal): Promise<CallToolResult> {
    const client = await this.connect();
    return (await client.callTool(params, undefined, { signal, timeout: CALL_TIMEOUT_MS })) as CallToolResult;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await (await c.catch(() => null))?.close();
  }
}

/**
 * `baton mcp`: an MCP server on stdin/stdout for one key, relaying every tool call to a running
 * Baton's `/mcp` (`url`). The server lists, authorizes, runs, audits and emits events for each
 * call exactly as for an HTTP client, so both transports give the same answers by construction.
 * Nothing but MCP messages is written to stdout; diagnostics go to stderr.
 */
export async function runStdioServer(opts: { url: string; key: string }): Promise<void> {
  const url = opts.url.replace(/\/+$/, '');
  const remote = new RemoteMcp(url, opts.key);
  const server = new Server({ name: 'baton', title: 'Baton', version: SERVER_VERSION }, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    try {
      return { tools: await remote.listTools() };
    } catch (err) {
      const f = failureOf(err, url);
      throw new McpError(ErrorCode.InternalError, `${f.code}: ${f.message}`);
    }
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    try {
      return await remote.callTool({ name: req.params.name, arguments: req.params.arguments }, extra.signal);
    } catch (err) {
      // The SDK prefixes "MCP error <code>: " to an McpError's message, on the server and again in the client;
      // rethrown as is, the relay's answer would carry the prefix more often than /mcp's.
      if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed && err.code !== ErrorCode.RequestTimeout) {
        throw new McpError(err.code, err.message.replace(/^(MCP error -?\d+: )+/, ''), err.data);
      }
      return errorResult(failureOf(err, url));
    }
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
