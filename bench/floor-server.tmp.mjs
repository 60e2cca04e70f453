import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
const TEXT = 'x'.repeat(4096);
const s = new McpServer({ name: 'floor', version: '0' });
s.registerTool('noop', { inputSchema: { path: z.string() } }, async () => ({ content: [{ type: 'text', text: TEXT }] }));
await s.connect(new StdioServerTransport());
