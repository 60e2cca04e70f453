import { Readable } from 'node:stream';
import type { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { ClaimedTicket, CompleteResult, CreatedSubscription, DeleteResult, EventPage, FailResult, HeartbeatResult, ListPage, MoveResult, VersionList } from '../client/types.js';
import { authorize } from '../auth/authorize.js';
import { newContext, requirePrincipal, type OperationContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import { parsePath } from '../core/paths.js';
import type { Core } from '../server/core.js';
import { deleteResponse, moveResponse, restoreResponse, writeResponse } from '../service/responses.js';
import { newSubscriptionSchema } from '../service/subscriptions.js';
import { claimSchema, completeSchema, failSchema, heartbeatSchema } from '../service/tickets.js';
import type { EntryMeta } from '../storage/driver.js';
import { toSeconds, type Access, type Backend, type FileInfo, type FileStream, type NamePage, type Ops, type RestoreResponse, type WriteResponse } from './backend.js';
import { accessOf } from './tools/index.js';

/**
 * How one `/mcp` HTTP request relates to the audit trail. The request already has an operation
 * context (opened by the audit scope, principal set by authentication), and that scope writes
 * one entry for it when the response is sent. When the request carries exactly one tool call,
 * that entry *is* the tool call's entry: the first unit of work uses the request's context, and
 * a refusal is handed back through `fail` so the entry says `denied` with its code. Every other
 * unit of work gets a context of its own and its own entry.
 */
export interface RequestScope {
  ctx: OperationContext;
  /** Whether the request's own context may be used by the first unit of work. */
  shareable: boolean;
  /** Report the shared unit's refusal to the request's audit entry. */
  fail(err: unknown): void;
}

function toInfo(e: EntryMeta): FileInfo {
  return { path: e.path, type: e.type, size: e.size, etag: e.etag, mimeType: e.mimeType, version: e.version, modifiedAt: toSeconds(e.modifiedAt) };
}

/** The REST routes' body validation, with the same message (see http/json-body.ts). */
function validBody<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new BatonError('bad_request', `invalid body: ${where}${issue?.message ?? 'does not match the expected shape'}`);
  }
  return parsed.data;
}

/** Operations straight on the core services, under one operation context. */
class CoreOps implements Ops {
  constructor(
    private readonly core: Core,
    private readonly ctx: OperationContext,
  ) {}

  async read(path: string): Promise<FileStream> {
    const { entry, body } = await this.core.files.get(this.ctx, parsePath(path));
    return { info: toInfo(entry), body, close: () => body.destroy() };
  }

  async info(path: string): Promise<FileInfo> {
    return toInfo(await this.core.files.stat(this.ctx, parsePath(path)));
  }

  mayRead(path: string): void {
    const p = parsePath(path);
    this.ctx.audit.action = 'resources.subscribe';
    this.ctx.audit.path = p.full;
    authorize(requirePrincipal(this.ctx), 'read', p);
  }

  async write(path: string, content: string, opts: { ifMatch?: string } = {}): Promise<WriteResponse> {
    const { entry, created } = await this.core.files.put(this.ctx, parsePath(path), Readable.from([Buffer.from(content, 'utf8')]), {
      ifMatch: opts.ifMatch,
    });
    return { ...writeResponse(entry), created };
  }

  async mkdir(path: string): Promise<void> {
    await this.core.files.mkdir(this.ctx, parsePath(path));
  }

  async list(dir: string, opts: { recursive?: boolean; cursor?: string | null; limit?: number }): Promise<ListPage> {
    const page = await this.core.files.list(this.ctx, parsePath(dir, { allowRoot: true }), {
      recursive: opts.recursive ?? false,
      cursor: opts.cursor ?? undefined,
      limit: opts.limit,
    });
    return page;
  }

  names(dir: string, opts: { recursive?: boolean; cursor?: string | null }): Promise<NamePage> {
    return this.core.files.names(this.ctx, parsePath(dir, { allowRoot: true }), { recursive: opts.recursive ?? false, cursor: opts.cursor ?? undefined });
  }

  async move(from: string, to: string): Promise<MoveResult> {
    const src = parsePath(from);
    const { to: entry } = await this.core.files.move(this.ctx, src, parsePath(to), false);
    return moveResponse(src.full, entry);
  }

  async delete(path: string): Promise<DeleteResult> {
    const entry = await this.core.files.delete(this.ctx, parsePath(path));
    return deleteResponse(entry);
  }

  async versions(path: string): Promise<VersionList> {
    return { versions: await this.core.files.versions(this.ctx, parsePath(path)) };
  }

  async restore(path: string, version: number): Promise<RestoreResponse> {
    const { entry, restoredFrom } = await this.core.files.restore(this.ctx, parsePath(path), version);
    return restoreResponse(entry, restoredFrom);
  }

  async events(q: { path: string; after?: string; waitSeconds?: number; limit?: number }): Promise<EventPage> {
    return this.core.events.read(this.ctx, { glob: q.path, after: q.after, waitSeconds: q.waitSeconds, limit: q.limit });
  }

  async subscribe(input: unknown): Promise<CreatedSubscription> {
    return this.core.subscriptions.create(this.ctx, validBody(newSubscriptionSchema, input));
  }

  async claim(input: unknown): Promise<ClaimedTicket | null> {
    const ticket = await this.core.tickets.claim(this.ctx, validBody(claimSchema, input));
    return ticket;
  }

  async heartbeat(input: unknown): Promise<HeartbeatResult> {
    return this.core.tickets.heartbeat(this.ctx, validBody(heartbeatSchema, input));
  }

  async complete(input: unknown): Promise<CompleteResult> {
    return this.core.tickets.complete(this.ctx, validBody(completeSchema, input));
  }

  async fail(input: unknown): Promise<FailResult> {
    return this.core.tickets.fail(this.ctx, validBody(failSchema, input));
  }
}

/**
 * The backend of `/mcp`: one per HTTP request, for the principal authentication found. Every
 * unit of work is one operation context, audited once with the agent as actor; writes go
 * through the same services as REST, so they emit the same events and pass the same guards.
 */
export class CoreBackend implements Backend {
  private shared: RequestScope | null;
  private readonly accessInfo: Access;
  /** The request's context: coordination headers (causation, fencing) carry over from it. */
  private readonly inherit: OperationContext;

  constructor(
    private readonly core: Core,
    private readonly principal: Principal,
    scope: RequestScope,
  ) {
    this.shared = scope.shareable ? scope : null;
    this.inherit = scope.ctx;
    this.accessInfo = accessOf(principal);
  }

  access(): Promise<Access> {
    return Promise.resolve(this.accessInfo);
  }

  async run<T>(tool: string, path: string | null, fn: (ops: Ops) => Promise<T>): Promise<T> {
    const scope = this.shared;
    this.shared = null;
    const ctx = scope ? scope.ctx : newContext(this.principal, '');
    if (!scope) {
      if (this.inherit.causedBy !== undefined) ctx.causedBy = this.inherit.causedBy;
      if (this.inherit.fencing !== undefined) ctx.fencing = this.inherit.fencing;
    }
    ctx.audit.action = `mcp.${tool}`;
    ctx.audit.path = path === null ? null : path.slice(0, 1100);
    ctx.audit.etag = null;
    try {
      const out = await fn(new CoreOps(this.core, ctx));
      if (!scope) void this.core.recorder.finish(ctx);
      return out;
    } catch (err) {
      if (scope) scope.fail(err);
      else void this.core.recorder.finish(ctx, err);
      throw err;
    }
  }
}
