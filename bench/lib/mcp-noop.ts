/**
 * The transport floors of the MCP section: an MCP server whose four tools, named and called like
 * the measured ones, touch no file and answer at once with a text of realistic size. Served over
 * stdio by the child script `bench/lib/mcp-noop-server.ts`, and over Streamable HTTP in-process
 * by `startNoopHttp` (one server per session, plain JSON answers, like Baton's `/mcp`). What is left is the SDK and the transport: JSON-RPC framing, argument
 * validation, and the pipe or the HTTP request.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/** The 4 KiB text of `read.txt`, as the real targets return it. */
export const FOUR_KIB = ('0123456789abcdef'.repeat(4) + '\n').repeat(64).slice(0, 4096);

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

/** The four no-op tools for a bench folder of `nFiles` files plus `read.txt`. */
export function createNoopServer(nFiles: number): McpServer {
  const listing = [...Array.from({ length: nFiles }, (_, i) => `[FILE] f-${i}.txt`), '[FILE] read.txt'].join('\n');
  const matches: string[] = [];
  for (let i = 0; i < nFiles; i++) if (String(i).includes('42')) matches.push(`f-${i}.txt`);
  const server = new McpServer({ name: 'bench-noop', version: '0.0.0' });
  // Loose objects: the real arguments are validated, anything else passes.
  server.registerTool('read_text_file', { inputSchema: z.looseObject({ path: z.string() }) }, () => text(FOUR_KIB));
  server.registerTool('write_file', { inputSchema: z.looseObject({ path: z.string(), content: z.string() }) }, ({ path }) => text(`Successfully wrote to ${path}`));
  server.registerTool('list_directory', { inputSchema: z.looseObject({ path: z.string() }) }, () => text(listing));
  server.registerTool('search_files', { inputSchema: z.looseObject({ path: z.string(), pattern: z.string() }) }, ({ path }) =>
    text(matches.map((m) => `${path}/${m}`).join('\n')),
  );
  return server;
}

export interface NoopHttp {
  url: string;
  close(): Promise<void>;
}

/**
 * The no-op tools over Streamable HTTP on 127.0.0.1 (a free port), as Baton's `/mcp` serves a
 * client: `initialize` opens a session with one server for all its requests, answers are plain
 * JSON, and `GET /mcp` opens the session's notification stream.
 */
export async function startNoopHttp(nFiles: number): Promise<NoopHttp> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const srv: Server = createServer((req, res) => {
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    if (typeof id === 'string' && !known) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      return;
    }
    const open = async (): Promise<StreamableHTTPServerTransport> => {
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: true,
        onsessioninitialized: (sid) => void sessions.set(sid, transport),
        onsessionclosed: (sid) => void sessions.delete(sid),
      });
      await createNoopServer(nFiles).connect(transport);
      return transport;
    };
    (known ? Promise.resolve(known) : open())
      .then((transport) => transport.handleRequest(req, res))
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
        else res.destroy();
      });
  });
  await new Promise<void>((ok, fail) => {
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = srv.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      await new Promise<void>((ok) => {
        srv.close(() => ok());
        srv.closeAllConnections();
      });
    },
  };
}
