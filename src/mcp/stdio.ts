import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ClientBackend } from './client-backend.js';
import { createMcpServer, SERVER_VERSION } from './server.js';

/**
 * `baton mcp`: an MCP server on stdin/stdout for one key, acting as a client of a running Baton
 * (`url`). Tools are the ones `/mcp` serves, with the same results; they run as REST calls, so
 * the server authorizes, audits and emits events for them as for any other request. Nothing but
 * MCP messages is written to stdout; diagnostics go to stderr.
 */
export async function runStdioServer(opts: { url: string; key: string }): Promise<void> {
  const backend = new ClientBackend({ url: opts.url, key: opts.key, version: SERVER_VERSION });
  const server = createMcpServer(backend, {
    onInternalError: (err) => process.stderr.write(`baton mcp: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`),
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => undefined);
  await backend.close().catch(() => undefined);
}
