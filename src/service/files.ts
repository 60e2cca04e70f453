import type { Readable } from 'node:stream';
import { authorize, can, canReadAllUnder, canReadUnder } from '../auth/authorize.js';
import type { Principal, RateLimits } from '../auth/principal.js';
import type { CausationGuard } from '../guards/causation.js';
import type { RateLimiter } from '../guards/rate-limit.js';
import type { FencingGuard } from '../tickets/fencing-guard.js';
import { requirePrincipal, type OperationContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import { globMatcher } from '../core/glob.js';
import { storedMimeType } from '../core/mime.js';
import { basename, parsePath, ROOT, workspaceRoot, type BatonPath } from '../core/paths.js';
import type { Recorder } from '../core/recorder.js';
import { newEvent, type EventType, type NewEvent } from '../events/event.js';
import type { EntryMeta, VersionInfo, WalkEntry, WriteResult } from '../storage/driver.js';
import type { WorkspaceRegistry } from '../workspaces/registry.js';
import { decodeCursor, encodeCursor, pageLimit } from './cursor.js';
import { scanContent, type LineMatch } from './content-scan.js';

/** A listing's entry: what the driver knows, less the version (a listing does not show it). */
export type ListEntry = Omit<EntryMeta, 'version'>;

export interface SearchResult {
  path: string;
  size: number;
  etag: string | null;
  modifiedAt: string;
  matches?: LineMatch[];
}

export interface PutOptions {
  mimeType?: string;
  /** Content-Length, when the client sent one: checked against the byte quota before writing. */
  declaredBytes?: number;
  ifMatch?: string;
  ifNoneMatch?: boolean;
}

/** How long one page of a search may scan before it returns what it has with a cursor. */
const SEARCH_PAGE_BUDGET_MS = 2_000;
/** How many hidden entries one page of a listing may skip before returning a shorter page. */
const LIST_SCAN_BUDGET = 50_000;
/** The most entries a folder may hold to be moved in one request (each is authorized and re-homed). */
const FOLDER_MOVE_MAX = 10_000;
/** The largest page `names` returns: an entry is a path and a type, with no stat behind it. */
const NAMES_PAGE_MAX = 10_000;

function principalOf(ctx: OperationContext): Principal {
  return requirePrincipal(ctx);
}

function toListEntry(e: EntryMeta): ListEntry {
  return { path: e.path, type: e.type, size: e.size, etag: e.etag, mimeType: e.mimeType, modifiedAt: e.modifiedAt };
}

/**
 * File operations as every interface sees them: authorize, then call the workspace's driver,
 * then note what the audit entry should say. REST, MCP and the CLI all come through here.
 */
export interface WriteGuards {
  fencing: FencingGuard;
  causation: CausationGuard;
  rates: RateLimiter;
}

export class FileService {
  constructor(
    private readonly workspaces: WorkspaceRegistry,
    private readonly recorder: Recorder,
    private readonly guards: WriteGuards,
    private readonly maxBodyBytes: number,
  ) {}

  /**
   * The workspace's default limits, for keys without limits of their own (a key's own limits
   * are applied to every request when it authenticates).
   */
  private limitsFor(p: Principal, path: BatonPath): RateLimits | undefined {
    if (p.kind !== 'key' || p.limits) return undefined;
    return this.workspaces.get(path.workspace)?.def.limits;
  }

  private async admit(p: Principal, path: BatonPath, incoming = 0): Promise<void> {
    if (p.kind === 'key') await this.guards.rates.admit(p.id, this.limitsFor(p, path), incoming);
  }

  /** Before any change: the loop guard and the fencing token, so a refused request changes nothing. */
  async guardChange(ctx: OperationContext, path: BatonPath): Promise<void> {
    await this.guards.causation.check(ctx, path.workspace);
    await this.guards.fencing.check(ctx);
  }

  /**
   * Record a change as an event, inside the driver's commit so events follow disk order. An
   * event that tells what the change meant (`follow`, e.g. a ticket claimed by that move) is
   * appended with it in one step: both are in the log, or neither.
   */
  private emitFor(ctx: OperationContext, type: EventType, extra: Partial<NewEvent> = {}, follow?: (e: EntryMeta) => NewEvent) {
    return async (e: EntryMeta): Promise<void> => {
      const def = this.workspaces.resolve(parsePath(e.path)).def;
      const change = { input: newEvent(type, def, e, ctx.actor, { ...(ctx.causation ? { causation: ctx.causation } : {}), ...extra }), opts: { index: type === 'file.deleted' ? 'del' : 'set' } as const };
      if (follow) await this.recorder.emitMany([change, { input: follow(e), opts: { index: 'none' } }]);
      else await this.recorder.emit(change.input, change.opts);
    };
  }

  private gatesOf(path: BatonPath): string[] {
    return this.workspaces.get(path.workspace)?.def.gates ?? [];
  }

  private begin(ctx: OperationContext, action: string, path: BatonPath): Principal {
    ctx.audit.action = action;
    ctx.audit.path = path.full;
    return principalOf(ctx);
  }

  async put(ctx: OperationContext, path: BatonPath, body: Readable, opts: PutOptions): Promise<WriteResult> {
    const p = this.begin(ctx, 'file.write', path);
    authorize(p, 'write', path, this.gatesOf(path));
    await this.admit(p, path, opts.declaredBytes);
    const result = await this.commitWrite(ctx, path, body, opts);
    if (p.kind === 'key') await this.guards.rates.charge(p.id, p.limits ?? this.limitsFor(p, path), result.entry.size);
    return result;
  }

  /** Write without authorizing: for services that already authorized a larger operation. */
  async commitWrite(ctx: OperationContext, path: BatonPath, body: Readable, opts: PutOptions): Promise<WriteResult> {
    await this.guardChange(ctx, path);
    const ws = this.workspaces.resolve(path);
    const result = await ws.driver.write(path, body, {
      mimeType: storedMimeType(opts.mimeType, basename(path)),
      actor: ctx.actor,
      ifMatch: opts.ifMatch,
      ifNoneMatch: opts.ifNoneMatch,
      maxBytes: this.maxBodyBytes,
      onCommit: (r) => this.emitFor(ctx, r.created ? 'file.created' : 'file.updated')(r.entry),
    });
    ctx.audit.etag = result.entry.etag;
    return result;
  }

  async get(ctx: OperationContext, path: BatonPath, opts: { version?: number } = {}): Promise<{ entry: EntryMeta; body: Readable }> {
    const p = this.begin(ctx, 'file.read', path);
    authorize(p, 'read', path);
    await this.admit(p, path);
    const out = await this.workspaces.resolve(path).driver.read(path, opts);
    ctx.audit.etag = out.entry.etag;
    return out;
  }

  async stat(ctx: OperationContext, path: BatonPath): Promise<EntryMeta> {
    const p = this.begin(ctx, 'file.stat', path);
    authorize(p, 'read', path);
    await this.admit(p, path);
    const entry = await this.workspaces.resolve(path).driver.stat(path);
    if (!entry) throw new BatonError('not_found', `${path.full} does not exist`);
    ctx.audit.etag = entry.etag;
    return entry;
  }

  async delete(ctx: OperationContext, path: BatonPath, opts: { ifMatch?: string } = {}): Promise<EntryMeta> {
    const p = this.begin(ctx, 'file.delete', path);
    authorize(p, 'delete', path);
    await this.admit(p, path);
    await this.guardChange(ctx, path);
    const entry = await this.workspaces.resolve(path).driver.delete(path, {
      actor: ctx.actor,
      ifMatch: opts.ifMatch,
      onCommit: async (e) => {
        if (e.type === 'file') await this.emitFor(ctx, 'file.deleted')(e);
      },
    });
    ctx.audit.etag = entry.etag;
    return entry;
  }

  async mkdir(ctx: OperationContext, path: BatonPath): Promise<void> {
    const p = this.begin(ctx, 'dir.create', path);
    authorize(p, 'write', path, this.gatesOf(path));
    await this.admit(p, path);
    await this.workspaces.resolve(path).driver.mkdir(path);
  }

  async move(ctx: OperationContext, from: BatonPath, to: BatonPath, overwrite: boolean) {
    const p = this.begin(ctx, 'file.move', from);
    ctx.audit.path = `${from.full} -> ${to.full}`;
    authorize(p, 'read', from);
    authorize(p, 'delete', from);
    authorize(p, 'write', to, this.gatesOf(to));
    await this.admit(p, from);
    await this.authorizeFolderMove(p, from, to);
    return this.commitMove(ctx, from, to, overwrite);
  }

  /**
   * A folder moves with everything in it, so a grant on the folder's name is not enough: every
   * file inside must be one this key may read and delete, landing where it may write.
   */
  private async authorizeFolderMove(p: Principal, from: BatonPath, to: BatonPath): Promise<void> {
    const driver = this.workspaces.resolve(from).driver;
    if ((await driver.stat(from))?.type !== 'directory') return;
    let n = 0;
    for await (const batch of driver.walk(from, { after: null, recursive: true })) {
      for (const e of batch) {
        if (++n > FOLDER_MOVE_MAX) throw new BatonError('bad_request', `${from.full} holds more than ${FOLDER_MOVE_MAX} entries: move it in parts`);
        if (e.type !== 'file') continue;
        const dest = parsePath(to.full + e.path.full.slice(from.full.length));
        authorize(p, 'read', e.path);
        authorize(p, 'delete', e.path);
        authorize(p, 'write', dest, this.gatesOf(dest));
      }
    }
  }

  /** Move without authorizing: for services that already authorized a larger operation. */
  async commitMove(ctx: OperationContext, from: BatonPath, to: BatonPath, overwrite: boolean, extra: Partial<NewEvent> = {}, follow?: (to: EntryMeta) => NewEvent) {
    if (from.workspace !== to.workspace) {
      throw new BatonError('bad_request', 'moves across workspaces are not supported; copy and delete instead');
    }
    await this.guardChange(ctx, to);
    const result = await this.workspaces.resolve(from).driver.move(from, to, {
      actor: ctx.actor,
      overwrite,
      onCommit: async (r) => {
        if (r.to.type === 'file') await this.emitFor(ctx, 'file.moved', { ...extra, from: from.full }, follow)(r.to);
        for (const f of r.files ?? []) await this.emitFor(ctx, 'file.moved', { ...extra, from: f.from.path })(f.to);
      },
    });
    ctx.audit.etag = result.to.etag;
    return result;
  }

  async versions(ctx: OperationContext, path: BatonPath): Promise<VersionInfo[]> {
    const p = this.begin(ctx, 'file.versions', path);
    authorize(p, 'read', path);
    await this.admit(p, path);
    return this.workspaces.resolve(path).driver.versions(path);
  }

  async restore(ctx: OperationContext, path: BatonPath, version: number) {
    const p = this.begin(ctx, 'file.restore', path);
    authorize(p, 'read', path);
    authorize(p, 'write', path, this.gatesOf(path));
    await this.admit(p, path);
    await this.guardChange(ctx, path);
    const result = await this.workspaces.resolve(path).driver.restore(path, version, {
      actor: ctx.actor,
      onCommit: (r) => this.emitFor(ctx, r.created ? 'file.created' : 'file.updated', { restoredFrom: version })(r.entry),
    });
    ctx.audit.etag = result.entry.etag;
    return result;
  }

  /** What lies below `dir` in a stable order; the namespace root lists the workspaces. */
  private async *entriesUnder(p: Principal, dir: BatonPath, recursive: boolean, after: BatonPath | null, meta = false): AsyncGenerator<readonly WalkEntry[]> {
    const descend = (d: BatonPath) => canReadUnder(p, d);
    if (dir !== ROOT) {
      yield* this.workspaces.resolve(dir).driver.walk(dir, { after, recursive, descend, meta });
      return;
    }
    for (const ws of this.workspaces.list()) {
      const root = workspaceRoot(ws.def.name);
      if (after && ws.def.name < after.workspace) continue;
      const resumeInside = after !== null && after.workspace === ws.def.name && after.rel !== '';
      if (!resumeInside && after?.workspace !== ws.def.name) yield [{ path: root, type: 'directory' }];
      if (recursive && descend(root)) {
        yield* ws.driver.walk(root, { after: resumeInside ? after : null, recursive, descend, meta });
      }
    }
  }

  private visible(p: Principal, e: WalkEntry): boolean {
    return e.type === 'file' ? can(p, 'read', e.path) : canReadUnder(p, e.path);
  }

  async list(ctx: OperationContext, dir: BatonPath, opts: { recursive: boolean; cursor?: string; limit?: number }) {
    return this.page(ctx, dir, { ...opts, limit: pageLimit(opts.limit) }, true, async (e) => {
      const meta = e.meta ?? (await this.workspaces.resolve(e.path).driver.stat(e.path).catch(() => null));
      return meta ? toListEntry(meta) : null;
    });
  }

  /**
   * A listing of paths and types only, with no per-entry stat, for callers that show names
   * (the MCP listing tools). Same authorization, visibility and cursors as `list`; pages may
   * be larger since an entry costs so little.
   */
  async names(ctx: OperationContext, dir: BatonPath, opts: { recursive: boolean; cursor?: string; limit?: number }) {
    const limit = Math.min(opts.limit ?? NAMES_PAGE_MAX, NAMES_PAGE_MAX);
    return this.page(ctx, dir, { ...opts, limit }, false, (e) => ({ path: e.path.full, type: e.type }));
  }

  private async page<T>(
    ctx: OperationContext,
    dir: BatonPath,
    opts: { recursive: boolean; cursor?: string; limit: number },
    meta: boolean,
    describe: (e: WalkEntry) => T | null | Promise<T | null>,
  ): Promise<{ entries: T[]; cursor: string | null }> {
    const p = this.begin(ctx, 'dir.list', dir);
    if (!canReadUnder(p, dir)) throw new BatonError('forbidden', `nothing under ${dir.full} is readable with this key`);
    await this.admit(p, dir);
    const after = decodeCursor(opts.cursor, dir);
    if (dir !== ROOT) {
      const st = await this.workspaces.resolve(dir).driver.stat(dir);
      if (!st) throw new BatonError('not_found', `${dir.full} does not exist`);
      if (st.type !== 'directory') throw new BatonError('bad_request', `${dir.full} is not a directory`);
    }
    const seesAll = canReadAllUnder(p, dir);
    const entries: T[] = [];
    let last: BatonPath | null = null;
    let scanned = 0;
    let exhausted = true;
    scan: for await (const batch of this.entriesUnder(p, dir, opts.recursive, after, meta)) {
      for (const e of batch) {
        if (entries.length === opts.limit || scanned >= LIST_SCAN_BUDGET) {
          exhausted = false;
          break scan;
        }
        scanned++;
        last = e.path;
        if (!seesAll && !this.visible(p, e)) continue;
        const d = describe(e);
        // A description at hand is taken as is: an await per entry was a tenth of a listing's CPU.
        const described = d instanceof Promise ? await d : d;
        if (described) entries.push(described);
      }
    }
    return { entries, cursor: exhausted || !last ? null : encodeCursor(last) };
  }

  async search(ctx: OperationContext, root: BatonPath, opts: { glob?: string; q?: string; limit?: number; cursor?: string; exclude?: string[] }) {
    const p = this.begin(ctx, 'file.search', root);
    if (!opts.glob && !opts.q) throw new BatonError('bad_request', 'search needs a glob, a q, or both');
    if (!canReadUnder(p, root)) throw new BatonError('forbidden', `nothing under ${root.full} is readable with this key`);
    await this.admit(p, root);
    const limit = pageLimit(opts.limit);
    const after = decodeCursor(opts.cursor, root);
    const prefix = root === ROOT ? '' : root.full;
    const nameMatch = opts.glob ? globMatcher(`${prefix}/${opts.glob.replace(/^\/+/, '')}`) : () => true;
    const excluded = (opts.exclude ?? []).map((x) => globMatcher(`${prefix}/${x.replace(/^\/+/, '')}`));
    const seesAll = canReadAllUnder(p, root);
    const results: SearchResult[] = [];
    const deadline = Date.now() + SEARCH_PAGE_BUDGET_MS;
    let last: BatonPath | null = null;
    let exhausted = true;
    scan: for await (const batch of this.entriesUnder(p, root, true, after)) {
      for (const e of batch) {
        if (results.length === limit || Date.now() > deadline) {
          exhausted = false;
          break scan;
        }
        last = e.path;
        if (e.type !== 'file' || (!seesAll && !can(p, 'read', e.path))) continue;
        if (!nameMatch(e.path.full) || excluded.some((x) => x(e.path.full))) continue;
        const driver = this.workspaces.resolve(e.path).driver;
        if (opts.q) {
          const read = await driver.read(e.path).catch(() => null);
          if (!read) continue;
          const matches = await scanContent(read.body, opts.q);
          if (matches.length === 0) continue;
          results.push({ path: e.path.full, size: read.entry.size, etag: read.entry.etag, modifiedAt: read.entry.modifiedAt, matches });
        } else {
          const meta = await driver.stat(e.path).catch(() => null);
          if (meta) results.push({ path: meta.path, size: meta.size, etag: meta.etag, modifiedAt: meta.modifiedAt });
        }
      }
    }
    return { results, cursor: exhausted || !last ? null : encodeCursor(last) };
  }
}
