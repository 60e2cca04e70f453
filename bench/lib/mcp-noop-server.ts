/**
 * The no-op MCP tools (bench/lib/mcp-noop.ts) over stdio: the stdio transport floor of the MCP
 * section. `node --import tsx bench/lib/mcp-noop-server.ts <nFiles>`.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createNoopServer } from './mcp-noop.js';

const nFiles = Number(process.argv[2]);
if (!Number.isInteger(nFiles) || nFiles < 0) {
  process.stderr.write('usage: node --import tsx bench/lib/mcp-noop-server.ts <nFiles>\n');
  process.exit(2);
}
await createNoopServer(nFiles).connect(new StdioServerTransport());
