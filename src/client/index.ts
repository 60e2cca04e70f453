import { AuditApi } from './audit.js';
import { TicketsApi } from './tickets.js';
import { KeysApi, WorkspacesApi } from './admin.js';
import { EventsApi } from './events.js';
import { SubscriptionsApi } from './subscriptions.js';
import { GatesApi } from './gates.js';
import { paginate } from './paginate.js';
import { bareEtag, encodePath, quoteEtag, Transport } from './transport.js';
import type {
  BatonClientOptions,
  BodyInput,
  CallOptions,
  DeleteOptions,
  DeleteResult,
  FileMeta,
  GetOptions,
  GetResult,
  GetStreamResult,
  Health,
  ListEntry,
  ListOptions,
  ListPage,
  MoveOptions,
  MoveResult,
  PutOptions,
  PutResult,
  Readiness,
  RestoreResult,
  SearchOptions,
  SearchPage,
  SearchResult,
  VersionList,
  WriteResult,
} from './types.js';

export * from './types.js';
export { BatonClientError, isBatonClientError, type BatonErrorCode } from './errors.js';
export { encodePath } from './transport.js';
export { AuditApi } from './audit.js';
export { TicketsApi } from './tickets.js';
export { verifyWebhook, WebhookVerificationError } from './webhooks.js';
export { KeysApi, WorkspacesApi } from './admin.js';
export { EventIterator, EventsApi, parseSse, type SseFrame } from './events.js';
export { SubscriptionsApi } from './subscriptions.js';
export { GatesApi } from './gates.js';

const decoder = new TextDecoder();

function metaFrom(path: string, res: Response): FileMeta {
  const h = res.headers;
  const size = Number(h.get('content-length') ?? NaN);
  const version = h.get('baton-version');
  const modified = h.get('last-modified');
  const modifiedAt = modified && !Number.isNaN(Date.parse(modified)) ? new Date(modified).toISOString() : null;
  return {
    path: path.normalize('NFC').replace(/^\/*/, '/'),
    size: Number.isFinite(size) ? size : -1,
    etag: bareEtag(h.get('etag')),
    mimeType: h.get('content-type') ?? 'application/octet-stream',
    version: version === null ? null : Number(version),
    modifiedAt,
  };
}

/**
 * A typed client for Baton's REST API. Zero dependencies: Node 20's fetch.
 *
 *     const baton = new BatonClient({ url: 'http://127.0.0.1:8787', key: process.env.BATON_KEY });
 *     await baton.put('/demo/inbox/task.md', '# do this');
 *     for await (const e of baton.listAll('/demo', { recursive: true })) console.log(e.path);
 *
 * Each method resolves to the route's JSON body; failures throw BatonClientError with the
 * API's `code`. Paths are namespace paths (`/workspace/dir/file`); they are percent-encoded
 * per segment here. Route groups (keys, workspaces, audit, events, subscriptions,
 * tickets) are properties over the shared transport.
 */
export class BatonClient {
  /** The HTTP layer, shared by every route group. */
  protected readonly transport: Transport;
  readonly keys: KeysApi;
  readonly workspaces: WorkspacesApi;
  readonly audit: AuditApi;
  readonly events: EventsApi;
  readonly subscriptions: SubscriptionsApi;
  readonly tickets: TicketsApi;
  readonly gates: GatesApi;

  constructor(opts: BatonClientOptions) {
    this.transport = new Transport(opts);
    this.keys = new KeysApi(this.transport);
    this.workspaces = new WorkspacesApi(this.transport);
    this.audit = new AuditApi(this.transport);
    this.events = new EventsApi(this.transport);
    this.subscriptions = new SubscriptionsApi(this.transport);
    this.tickets = new TicketsApi(this.transport);
    this.gates = new GatesApi(this.transport);
  }

  /** The server's base URL, without a trailing slash. */
  get url(): string {
    return this.transport.baseUrl;
  }

  /** Write a file atomically. `created` tells a new file (201) from a replaced one (200). */
  async put(path: string, body: BodyInput, opts: PutOptions = {}): Promise<PutResult> {
    const { contentType, ifMatch, ifNoneMatch, onProgress, ...call } = opts;
    const res = await this.transport.request({
      method: 'PUT',
      path: `/v1/files${encodePath(path)}`,
      body,
      onProgress,
      headers: {
        'content-type': contentType,
        'if-match': ifMatch === undefined ? undefined : quoteEtag(ifMatch),
        'if-none-match': ifNoneMatch ? '*' : undefined,
      },
      call,
    });
    const out = (await res.json()) as WriteResult;
    return { ...out, created: res.status === 201 };
  }

  /** A file's bytes and metadata, read whole; see getStream() for large files. */
  async get(path: string, opts: GetOptions = {}): Promise<GetResult> {
    const res = await this.fetchFile(path, opts);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const meta = metaFrom(path, res);
    return {
      ...meta,
      size: meta.size < 0 ? bytes.byteLength : meta.size,
      bytes,
      text: () => decoder.decode(bytes),
      json: <T = unknown>() => JSON.parse(decoder.decode(bytes)) as T,
    };
  }

  /** A file as a web ReadableStream, with its metadata from the headers. */
  async getStream(path: string, opts: GetOptions = {}): Promise<GetStreamResult> {
    const res = await this.fetchFile(path, opts);
    const body = res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    return { ...metaFrom(path, res), body };
  }

  private fetchFile(path: string, opts: GetOptions): Promise<Response> {
    const { version, ...call } = opts;
    return this.transport.request({ method: 'GET', path: `/v1/files${encodePath(path)}`, query: { version }, call });
  }

  /** Metadata only (HEAD). Errors carry the code the status implies, as HEAD has no body. */
  async stat(path: string, call?: CallOptions): Promise<FileMeta> {
    const res = await this.transport.request({ method: 'HEAD', path: `/v1/files${encodePath(path)}`, call });
    return metaFrom(path, res);
  }

  /** Delete a file (its versions stay restorable). `ifMatch` makes it conditional. */
  delete(path: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const { ifMatch, ...call } = opts;
    return this.transport.json({
      method: 'DELETE',
      path: `/v1/files${encodePath(path)}`,
      headers: { 'if-match': ifMatch === undefined ? undefined : quoteEtag(ifMatch) },
      call,
    });
  }

  /** One page of a folder (`/` lists the workspaces). */
  list(dir: string = '/', opts: ListOptions = {}): Promise<ListPage> {
    const { recursive, limit, cursor, ...call } = opts;
    const enc = encodePath(dir);
    return this.transport.json({
      method: 'GET',
      path: enc === '/' ? '/v1/list' : `/v1/list${enc}`,
      query: { recursive, limit, cursor },
      call,
    });
  }

  /** Every entry of a folder, following cursors. */
  listAll(dir: string = '/', opts: Omit<ListOptions, 'cursor'> = {}): AsyncGenerator<ListEntry> {
    return paginate((cursor) => this.list(dir, { ...opts, cursor }), (p) => p.entries);
  }

  /** One page of a name-glob and/or content search under `root`. */
  search(opts: SearchOptions): Promise<SearchPage> {
    const { root, glob, q, exclude, limit, cursor, ...call } = opts;
    return this.transport.json({
      method: 'GET',
      path: '/v1/search',
      query: { root: root.normalize('NFC'), glob, q, exclude, limit, cursor },
      call,
    });
  }

  /** Every search result, following cursors (a page may be short when the scan takes long). */
  searchAll(opts: Omit<SearchOptions, 'cursor'>): AsyncGenerator<SearchResult> {
    return paginate((cursor) => this.search({ ...opts, cursor }), (p) => p.results);
  }

  /** Move atomically within a workspace; without `overwrite` an existing target is `conflict`. */
  move(from: string, to: string, opts: MoveOptions = {}): Promise<MoveResult> {
    const { overwrite, ...call } = opts;
    return this.transport.json({ method: 'POST', path: '/v1/move', json: { from, to, overwrite: overwrite ?? false }, call });
  }

  /** A file's versions, newest first. */
  versions(path: string, call?: CallOptions): Promise<VersionList> {
    return this.transport.json({ method: 'GET', path: `/v1/versions${encodePath(path)}`, call });
  }

  /** Make an old version current (as a new version). */
  async restore(path: string, version: number, call?: CallOptions): Promise<RestoreResult> {
    const res = await this.transport.request({ method: 'POST', path: '/v1/restore', json: { path, version }, call });
    const out = (await res.json()) as Omit<RestoreResult, 'created'>;
    return { ...out, created: res.status === 201 };
  }

  /** Liveness (`/healthz`). */
  health(call?: CallOptions): Promise<Health> {
    return this.transport.json({ method: 'GET', path: '/healthz', call });
  }

  /** Readiness (`/readyz`): storage and Redis. A 503 answer is returned with `ok: false`. */
  ready(call?: CallOptions): Promise<Readiness> {
    return this.transport.json({ method: 'GET', path: '/readyz', accept: [503], call });
  }
}
