import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BatonClient, BatonClientError, type ListEntry } from '../client/index.js';
import { toSeconds, type Access, type Backend, type FileInfo, type FileStream, type Ops, type NamePage } from './backend.js';
import { parseAllowedDirectories } from './tools/browse.js';

const PAGE = 1000;

/**
 * What REST has no route for — which tools this key may use, which folders it may read, and
 * creating a folder — `baton mcp` asks the server's own `/mcp` endpoint, once per process for
 * the first two. Everything else goes through the REST API.
 */
class ServerMcp {
  private client: Promise<Client> | null = null;

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly version: string,
  ) {}

  private connect(): Promise<Client> {
    this.client ??= (async () => {
      const client = new Client({ name: 'baton-mcp-stdio', version: this.version });
      const transport = new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${this.key}` } },
      });
      try {
        await client.connect(transport);
      } catch (err) {
        this.client = null;
        throw asClientError(err, this.url);
      }
      return client;
    })();
    return this.client;
  }

  async listTools(): Promise<string[]> {
    const client = await this.connect();
    try {
      const { tools } = await client.listTools();
      return tools.map((t) => t.name);
    } catch (err) {
      throw asClientError(err, this.url);
    }
  }

  /** Call a tool on the server; a refusal comes back as the BatonClientError REST would give. */
  async call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const client = await this.connect();
    let result: CallToolResult;
    try {
      result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    } catch (err) {
      throw asClientError(err, this.url);
    }
    if (result.isError) {
      const e = (result.structuredContent as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new BatonClientError(e?.code ?? 'internal', e?.message ?? 'the server refused the call');
    }
    return result;
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c) await (await c.catch(() => null))?.close();
  }
}

/** The SDK reports HTTP failures as plain errors with the status in the text. */
function asClientError(err: unknown, url: string): BatonClientError {
  if (err instanceof BatonClientError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const body = /(\{"error":\{.*\}\})/.exec(msg)?.[1];
  if (body) {
    try {
      const e = (JSON.parse(body) as { error: { code: string; message: string } }).error;
      return new BatonClientError(e.code, e.message);
    } catch {
      // fall through
    }
  }
  if (/\b401\b/.test(msg)) return new BatonClientError('unauthorized', msg);
  if (/\b403\b/.test(msg)) return new BatonClientError('forbidden', msg);
  if (/fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND|ETIMEDOUT/i.test(msg)) return new BatonClientError('unavailable', `cannot reach ${url}: ${msg}`);
  return new BatonClientError('internal', `${url}/mcp: ${msg}`);
}

function fileInfo(path: string, m: { size: number; etag: string | null; mimeType: string; version: number | null; modifiedAt: string | null }): FileInfo {
  return { path, type: 'file', size: m.size, etag: m.etag, mimeType: m.mimeType, version: m.version, modifiedAt: toSeconds(m.modifiedAt) };
}

function entryInfo(e: ListEntry): FileInfo {
  return {
    path: e.path,
    type: e.type,
    size: e.size,
    etag: e.etag,
    mimeType: e.mimeType,
    version: null,
    modifiedAt: toSeconds(e.modifiedAt),
  };
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Operations as REST calls; the answers are the routes' JSON bodies. */
class RestOps implements Ops {
  constructor(
    private readonly baton: BatonClient,
    private readonly server: ServerMcp,
  ) {}

  async read(path: string): Promise<FileStream> {
    const res = await this.baton.getStream(path);
    const body = res.body;
    return {
      info: fileInfo(path, res),
      body: body as unknown as AsyncIterable<Uint8Array>,
      close: () => void body.cancel().catch(() => undefined),
    };
  }

  /**
   * A file's metadata from GET's headers (HEAD carries no error message); a folder's from
   * its parent's listing, as REST describes folders nowhere else.
   */
  async info(path: string): Promise<FileInfo> {
    try {
      const res = await this.baton.getStream(path);
      await res.body.cancel().catch(() => undefined);
      return fileInfo(path, res);
    } catch (err) {
      if (!(err instanceof BatonClientError && err.code === 'bad_request' && err.message.endsWith('is a directory'))) throw err;
    }
    const parent = parentOf(path);
    let cursor: string | undefined;
    do {
      const page = await this.baton.list(parent, { limit: PAGE, cursor });
      const hit = page.entries.find((e) => e.path === path);
      if (hit) return entryInfo(hit);
      cursor = page.cursor ?? undefined;
    } while (cursor);
    throw new BatonClientError('not_found', `${path} does not exist`);
  }

  async write(path: string, content: string, opts: { ifMatch?: string } = {}) {
    return this.baton.put(path, content, opts.ifMatch === undefined ? {} : { ifMatch: opts.ifMatch });
  }

  async mkdir(path: string): Promise<void> {
    await this.server.call('create_directory', { path });
  }

  list(dir: string, opts: { recursive?: boolean; cursor?: string | null; limit?: number }) {
    return this.baton.list(dir, { recursive: opts.recursive, limit: opts.limit, cursor: opts.cursor ?? undefined });
  }

  /** REST has one listing, with metadata: take the largest pages it gives. */
  async names(dir: string, opts: { recursive?: boolean; cursor?: string | null }): Promise<NamePage> {
    const page = await this.baton.list(dir, { recursive: opts.recursive, limit: PAGE, cursor: opts.cursor ?? undefined });
    return { entries: page.entries.map((e) => ({ path: e.path, type: e.type })), cursor: page.cursor };
  }

  move(from: string, to: string) {
    return this.baton.move(from, to, { overwrite: false });
  }

  delete(path: string) {
    return this.baton.delete(path);
  }

  versions(path: string) {
    return this.baton.versions(path);
  }

  async restore(path: string, version: number) {
    const { created: _created, ...body } = await this.baton.restore(path, version);
    return body;
  }

  events(q: { path: string; after?: string; waitSeconds?: number; limit?: number }) {
    return this.baton.events.read({ path: q.path, after: q.after, wait: q.waitSeconds, limit: q.limit });
  }

  subscribe(input: { url: string; paths: string[]; events?: string[] }) {
    return this.baton.subscriptions.create(input as Parameters<BatonClient['subscriptions']['create']>[0]);
  }

  claim(input: { queue: string; leaseSeconds?: number }) {
    return this.baton.tickets.claim(input.queue, input.leaseSeconds === undefined ? {} : { leaseSeconds: input.leaseSeconds });
  }

  heartbeat(input: { path: string; fencingToken: number; leaseSeconds?: number }) {
    return this.baton.tickets.heartbeat(input.path, input.fencingToken, input.leaseSeconds === undefined ? {} : { leaseSeconds: input.leaseSeconds });
  }

  complete(input: { path: string; fencingToken: number; result?: unknown }) {
    return this.baton.tickets.complete(input.path, input.fencingToken, input.result);
  }

  fail(input: { path: string; fencingToken: number; retry?: boolean; reason?: string }) {
    const { path, fencingToken, ...opts } = input;
    return this.baton.tickets.fail(path, fencingToken, opts);
  }
}

/**
 * The backend of `baton mcp`: a client of a running Baton, acting with one key. The server
 * authorizes, audits (one entry per REST request) and emits events exactly as for any client.
 */
export class ClientBackend implements Backend {
  private readonly ops: RestOps;
  private readonly server: ServerMcp;
  private accessInfo: Promise<Access> | null = null;

  constructor(opts: { url: string; key: string; version: string }) {
    const baton = new BatonClient({ url: opts.url, key: opts.key });
    this.server = new ServerMcp(baton.url, opts.key, opts.version);
    this.ops = new RestOps(baton, this.server);
  }

  /** Asked once; a failure (server down, bad key) is not remembered, so a later call retries. */
  access(): Promise<Access> {
    this.accessInfo ??= (async () => {
      const tools = new Set(await this.server.listTools());
      const dirs = await this.server.call('list_allowed_directories', {});
      const text = dirs.content.find((c) => c.type === 'text')?.text ?? '';
      return { tools, readableRoots: parseAllowedDirectories(text) };
    })();
    this.accessInfo.catch(() => (this.accessInfo = null));
    return this.accessInfo;
  }

  run<T>(_tool: string, _path: string | null, fn: (ops: Ops) => Promise<T>): Promise<T> {
    return fn(this.ops);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
