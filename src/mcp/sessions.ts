import { randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Principal } from '../auth/principal.js';
import type { Core } from '../server/core.js';
import { ResourceWatch } from './resource-watch.js';
import { resourceUri } from './resources.js';
import { createMcpServer } from './server.js';

/** A session nobody has sent a request on for this long, and with no subscription, is closed. */
const IDLE_MS = 30 * 60_000;
/** Past this many sessions for one key, its least recently used is closed. */
const MAX_PER_KEY = 64;
/** Past this many sessions in the process, the least recently used is closed. */
const MAX_SESSIONS = 10_000;
const SWEEP_MS = 60_000;

export interface McpSession {
  id: string;
  /** The key that opened it: a request with another key does not find it. */
  owner: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  watch: ResourceWatch;
  lastUsed: number;
  /** Whether the client's GET stream is open; until it is, changed URIs wait in `pending`. */
  streamOpen: boolean;
  pending: Set<string>;
}

export function ownerOf(p: Principal): string {
  return p.kind === 'admin' ? 'admin' : `key:${p.id}`;
}

/**
 * The stateful side of `/mcp`: a session per `initialize`, each with one MCP server (built once,
 * serving every request of the session with the request's key as auth info), its transport
 * (Mcp-Session-Id, a GET stream for server notifications) and its resource subscriptions.
 * Sessions live in this process; bounded per key and in all, and closed when idle.
 */
export class McpSessions {
  private readonly sessions = new Map<string, McpSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly core: Core,
    private readonly onInternalError: (err: unknown) => void,
  ) {
    // Unref'd: sessions end with the process, their streams cut by the HTTP server's shutdown.
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** The session `id` if `principal` opened it; a session is never shared between keys. */
  get(id: string, principal: Principal): McpSession | undefined {
    const s = this.sessions.get(id);
    if (!s || s.owner !== ownerOf(principal)) return undefined;
    s.lastUsed = Date.now();
    return s;
  }

  /**
   * A new session for an `initialize` request: registered once the transport has answered it
   * with a session id. `recheck` is the key's revocation check, repeated while notifications flow.
   */
  async open(principal: Principal, recheck: (() => Promise<void>) | undefined): Promise<McpSession> {
    const owner = ownerOf(principal);
    const session = {} as McpSession;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        session.id = id;
        this.admit(session);
      },
      onsessionclosed: (id) => void this.drop(id),
    });
    const watch = new ResourceWatch(
      this.core,
      principal,
      recheck,
      (path) => this.notify(session, resourceUri(path)),
      () => void this.drop(session.id),
    );
    const server = createMcpServer({ onInternalError: this.onInternalError, subscriptions: watch });
    Object.assign(session, { owner, transport, server, watch, lastUsed: Date.now(), streamOpen: false, pending: new Set<string>() });
    await server.connect(transport);
    return session;
  }

  /**
   * A client subscribes as soon as it has a session, possibly before its GET stream is
   * connected; a change in between is held (once per URI) and sent when the stream opens.
   */
  private async notify(s: McpSession, uri: string): Promise<void> {
    if (!s.streamOpen) {
      s.pending.add(uri);
      return;
    }
    await s.server.sendResourceUpdated({ uri });
  }

  /** The session's GET stream is connected (or, `open` false, gone). */
  streamChanged(s: McpSession, open: boolean): void {
    s.streamOpen = open;
    if (!open) return;
    const held = [...s.pending];
    s.pending.clear();
    for (const uri of held) void s.server.sendResourceUpdated({ uri }).catch(() => undefined);
  }

  private admit(session: McpSession): void {
    const mine = [...this.sessions.values()].filter((s) => s.owner === session.owner);
    if (mine.length >= MAX_PER_KEY) void this.drop(oldest(mine).id);
    if (this.sessions.size >= MAX_SESSIONS) void this.drop(oldest([...this.sessions.values()]).id);
    this.sessions.set(session.id, session);
  }

  /** Close a session: its subscriptions stop and its GET stream ends. */
  async drop(id: string | undefined): Promise<void> {
    const s = id === undefined ? undefined : this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id!);
    s.watch.stop();
    await s.server.close().catch(() => undefined);
  }

  /** A session that failed to initialize is discarded without having been registered. */
  async discard(s: McpSession): Promise<void> {
    if (s.id !== undefined && this.sessions.get(s.id) === s) return;
    s.watch.stop();
    await s.server.close().catch(() => undefined);
  }

  private sweep(): void {
    const cutoff = Date.now() - IDLE_MS;
    for (const s of this.sessions.values()) if (s.lastUsed < cutoff && s.watch.size === 0) void this.drop(s.id);
  }
}

function oldest(list: McpSession[]): McpSession {
  return list.reduce((a, b) => (b.lastUsed < a.lastUsed ? b : a));
}
