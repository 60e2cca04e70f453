import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BIN } from '../helpers/baton.js';

export type Kind = 'http' | 'stdio';
export const KINDS: Kind[] = ['http', 'stdio'];

export interface McpSession {
  kind: Kind;
  client: Client;
  /** Call a tool; the result as the SDK returns it (errors are results with isError). */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Call a tool that must succeed; its text. */
  text(name: string, args?: Record<string, unknown>): Promise<string>;
  /** Names of the listed tools, sorted. */
  tools(): Promise<string[]>;
  /** What `baton mcp` wrote to stderr (stdio only). */
  stderr(): string;
  close(): Promise<void>;
}

/** An SDK client connected to Baton over Streamable HTTP (`/mcp`) or stdio (`baton mcp`). */
export async function connect(kind: Kind, url: string, key: string): Promise<McpSession> {
  const client = new Client({ name: `baton-test-${kind}`, version: '1.0.0' });
  let err = '';
  if (kind === 'http') {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
  } else {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], env: { ...env, BATON_URL: url, BATON_KEY: key }, stderr: 'pipe' });
    transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    await client.connect(transport);
  }
  // The SDK client checks structuredContent against a tool's outputSchema only once it has listed the tools
  // (baton mcp may have no server behind it yet: then the test's own calls list them).
  await client.listTools().catch(() => undefined);
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    kind,
    client,
    call,
    async text(name, args) {
      const r = await call(name, args);
      if (r.isError) throw new Error(`${name} failed: ${textOf(r)}`);
      return textOf(r);
    },
    async tools() {
      return (await client.listTools()).tools.map((t) => t.name).sort();
    },
    stderr: () => err,
    close: () => client.close(),
  };
}

export function textOf(r: CallToolResult): string {
  return r.content
    .filter((c) => c.type === 'text')
    .map((c) => (c as { text: string }).text)
    .join('');
}

/** The `{code, message}` of a refused call, checking the result has the documented shape. */
export function refusal(r: CallToolResult): { code: string; message: string } {
  if (!r.isError) throw new Error(`expected a refusal, got: ${textOf(r).slice(0, 300)}`);
  const e = (r.structuredContent as { error: { code: string; message: string } }).error;
  if (textOf(r) !== `${e.code}: ${e.message}`) throw new Error(`text ${textOf(r)} does not match ${JSON.stringify(e)}`);
  return e;
}
