import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type GetObjectCommandOutput,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { BatonError } from '../../core/errors.js';
import { parsePath, type BatonPath } from '../../core/paths.js';
import type { FileHead, Head, HeldLock, ListedEntry, PathLog, PutOptions, RenameOptions, Spooled, StorageBackend } from '../backend.js';
import type { ObserveContext, OutsideWatcher, StorageDriver, WalkOptions } from '../driver.js';
import { createS3Client } from './client.js';
import { isMissing, isPreconditionFailed, s3Error } from './errors.js';
import { S3History } from './history.js';
import { compareKeys, copySource, decodeMeta, encodeMeta, META_DIR, pathHash, S3Layout } from './keys.js';
import { bareS3Etag, KeyLister } from './lister.js';
import { S3Reconciler, type BucketView } from './reconciler.js';
import { claim, RedisPathLocks } from '../redis-path-locks.js';
import { spool, type UploadBody } from './upload.js';

export interface S3StorageConfig {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  reconcileSeconds: number;
}

export interface S3BackendOptions {
  /** Multipart part size and the in-memory limit of a single PUT (default 5 MiB, S3's minimum part). */
  partSize?: number;
  queueSize?: number;
  lockTtlMs?: number;
  lockWaitMs?: number;
  client?: S3Client;
}

const META = { path: 'baton-path', version: 'baton-version', actor: 'baton-actor' } as const;
/** Outlives any one move (a copy of the largest object), not much more. */
const CLAIM_TTL_MS = 5 * 60_000;
const DIR_MARKER_TYPE = 'application/x-directory';
/** How many files a walk looks up ahead of its caller. */
const PREFETCH = 16;

/** A spooled body: in memory, or an object under the staging prefix (or a kept version, not ours to delete). */
class S3Spool implements Spooled {
  constructor(
    readonly body: UploadBody,
    private readonly drop: ((key: string) => Promise<void>) | null,
  ) {}

  get size(): number {
    return this.body.size;
  }

  async discard(): Promise<void> {
    if (this.body.kind === 'staged' && this.drop) await this.drop(this.body.key);
  }
}

/**
 * Workspaces in an S3 bucket (AWS, MinIO, or anything that speaks the S3 API). Files are plain
 * objects at `prefix + path`, so other tools can read and drop files straight into the bucket;
 * Baton's version logs, kept copies and staging uploads live under `prefix + .baton/`, which no
 * client path can name and no listing shows.
 *
 * S3 has no rename and (on many servers) no conditional writes, so every change of a path runs
 * under a per-path Redis lock shared by all replicas. A move is copy-then-delete; a Redis claim
 * on the source object makes it exactly-once even if a lock lapsed. An object's ETag is its
 * etag, and its metadata names the Baton write that made it (the stamp).
 */
export class S3Backend implements StorageBackend, BucketView {
  readonly name = 's3';
  readonly outsideActor = 's3';
  /** S3 has no folder rename: moving a folder would be a copy of every object, not one step. */
  readonly capabilities = { folderMoves: false };
  readonly layout: S3Layout;
  readonly s3: S3Client;
  readonly bucket: string;
  private readonly locks: RedisPathLocks;
  private readonly history: S3History;
  private readonly partSize: number;
  private readonly queueSize: number;
  /** Heads a running listing looked up ahead of its caller's `stat`s; dropped when the listing ends. */
  private readonly prefetched = new Map<string, Promise<Head | null>>();
  private readonly openedAt = new Date().toISOString();
  /** Whether a copy that replaces an object keeps the old ETag (s3rver does); null until probed. */
  private copyKeepsStaleEtag: boolean | null = null;
  private closed = false;

  constructor(
    readonly workspace: string,
    readonly config: S3StorageConfig,
    private readonly redis: Redis,
    opts: S3BackendOptions = {},
  ) {
    this.bucket = config.bucket;
    this.layout = new S3Layout(config.prefix);
    this.s3 = opts.client ?? createS3Client(config);
    const envPart = Number(process.env.BATON_S3_PART_SIZE_MB) * 1024 * 1024;
    const envQueue = Number(process.env.BATON_S3_QUEUE_SIZE);
    this.partSize = Math.max(5 * 1024 * 1024, opts.partSize ?? (envPart > 0 ? envPart : 5 * 1024 * 1024));
    this.queueSize = Math.max(1, opts.queueSize ?? (envQueue > 0 ? Math.floor(envQueue) : 2));
    this.locks = new RedisPathLocks(redis, `baton:s3lock:${config.bucket}`, { ttlMs: opts.lockTtlMs, waitMs: opts.lockWaitMs });
    this.history = new S3History(this.s3, this.bucket, this.layout, (err, op) => this.fail(err, op));
  }

  get endpoint(): string | undefined {
    return this.config.endpoint;
  }

  get region(): string {
    return this.config.region;
  }

  private fail(err: unknown, op: string): BatonError {
    return s3Error(err, { workspace: this.workspace, bucket: this.bucket, op });
  }

  // ---- lifecycle --------------------------------------------------------------------------

  async init(): Promise<void> {
    try {
      await this.probeCopy();
    } catch (err) {
      // The bucket may be down right now: the workspace still opens, and `check` probes again.
      if (!(err instanceof BatonError && err.code === 'unavailable')) throw err;
    }
    void this.sweepStaging().catch(() => undefined);
  }

  async check(): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: AbortSignal.timeout(5_000) });
    } catch (err) {
      const e = this.fail(err, 'checking the bucket');
      if (e.code === 'internal' && isMissing(err)) throw new BatonError('unavailable', `workspace ${this.workspace}: S3 bucket ${this.bucket} does not exist`);
      throw e.code === 'unavailable' ? e : new BatonError('unavailable', e.message, { cause: err });
    }
    if (this.copyKeepsStaleEtag === null) await this.probeCopy().catch(() => undefined);
  }

  /**
   * Find out once whether the server gives a replacing copy the copied bytes' ETag, as S3
   * does. s3rver keeps the replaced object's ETag; with it, a copy over an object removes the
   * object first (a moment with no object, which no S3 proper ever needs).
   */
  private async probeCopy(): Promise<void> {
    if (this.copyKeepsStaleEtag !== null) return;
    const base = `${this.layout.metaPrefix}probe/${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const put = (key: string, body: string) => this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
    try {
      const [a] = await Promise.all([put(`${base}-a`, 'a'), put(`${base}-b`, 'b')]);
      const copied = await this.s3.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: `${base}-b`, CopySource: copySource(this.bucket, `${base}-a`), MetadataDirective: 'REPLACE', ContentType: 'text/plain' }),
      );
      this.copyKeepsStaleEtag = bareS3Etag(copied.CopyObjectResult?.ETag) !== bareS3Etag(a.ETag);
    } catch (err) {
      throw this.fail(err, 'probing the bucket');
    } finally {
      await Promise.all([this.deleteKey(`${base}-a`), this.deleteKey(`${base}-b`)]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.s3.destroy();
  }

  /** Staging uploads older than a day were left by a crashed writer. */
  private async sweepStaging(): Promise<void> {
    const cutoff = Date.now() - 24 * 3600_000;
    const lister = new KeyLister(this.s3, this.bucket, this.layout.stagingPrefix(), undefined, (e) => this.fail(e, 'listing'));
    for (let o = await lister.next(); o; o = await lister.next()) {
      if (o.lastModified.getTime() < cutoff) await this.deleteKey(o.key).catch(() => undefined);
    }
  }

  observe(store: StorageDriver, ctx: ObserveContext): OutsideWatcher {
    return new S3Reconciler(ctx, store, this, this.config.reconcileSeconds * 1000);
  }

  // ---- object calls -----------------------------------------------------------------------

  /** The head of an object as Baton sees it: its stamp counts only if it names this very path. */
  private fileHead(p: BatonPath, out: HeadObjectCommandOutput | GetObjectCommandOutput): FileHead {
    const meta = out.Metadata ?? {};
    let stamp: FileHead['stamp'] = null;
    if (meta[META.path] === pathHash(p.rel).slice(0, 32)) {
      const version = Number(meta[META.version]);
      const actor = decodeMeta(meta[META.actor]);
      if (Number.isInteger(version) && version >= 1 && actor) stamp = { version, actor };
    }
    return {
      etag: bareS3Etag(out.ETag),
      size: Number(out.ContentLength ?? 0),
      modifiedAt: (out.LastModified ?? new Date()).toISOString(),
      contentType: out.ContentType ?? null,
      stamp,
    };
  }

  /** HEAD of any key; null when nothing is there. */
  private async headObject(key: string): Promise<HeadObjectCommandOutput | null> {
    try {
      return await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return null;
      throw this.fail(err, 'reading metadata');
    }
  }

  private async headKey(p: BatonPath): Promise<FileHead | null> {
    const out = await this.headObject(this.layout.fileKey(p));
    return out ? this.fileHead(p, out) : null;
  }

  private async exists(key: string): Promise<boolean> {
    return (await this.headObject(key)) !== null;
  }

  private async deleteKey(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return;
      throw this.fail(err, 'deleting');
    }
  }

  private stampMeta(p: BatonPath, stamp: { version: number; actor: string }): Record<string, string> {
    return { [META.path]: pathHash(p.rel).slice(0, 32), [META.version]: String(stamp.version), [META.actor]: encodeMeta(stamp.actor) };
  }

  /** Server-side copy; returns the new object's ETag. `ifMatch` guards against a source changed meanwhile. */
  private async copy(
    from: string,
    to: string,
    opts: { contentType: string | null; meta: Record<string, string>; ifMatch?: string; replaces?: boolean },
  ): Promise<string> {
    // Compatibility: a server that keeps the old ETag when a copy replaces an object (s3rver)
    // gets the old object removed first. Never needed on AWS or MinIO (the probe says so).
    if (opts.replaces && this.copyKeepsStaleEtag) await this.deleteKey(to);
    try {
      const out = await this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: to,
          CopySource: copySource(this.bucket, from),
          MetadataDirective: 'REPLACE',
          ContentType: opts.contentType ?? 'application/octet-stream',
          Metadata: opts.meta,
          ...(opts.ifMatch ? { CopySourceIfMatch: `"${opts.ifMatch}"` } : {}),
        }),
      );
      const etag = bareS3Etag(out.CopyObjectResult?.ETag);
      if (etag) return etag;
      return bareS3Etag((await this.headObject(to).catch(() => null))?.ETag);
    } catch (err) {
      if (isMissing(err)) throw new BatonError('not_found', 'the object was removed while being copied');
      if (isPreconditionFailed(err)) throw new BatonError('conflict', 'the object changed while being copied; try again');
      throw this.fail(err, 'copying');
    }
  }

  /** What lies under folder `p`: nothing (null), or whether it has a marker and anything else. */
  private async dirInfo(p: BatonPath): Promise<{ marker: boolean; other: boolean; modifiedAt: Date } | null> {
    const prefix = this.layout.dirPrefix(p);
    let out;
    try {
      out = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 2 }));
    } catch (err) {
      throw this.fail(err, 'listing');
    }
    const keys = (out.Contents ?? []).filter((o) => o.Key?.startsWith(prefix));
    if (keys.length === 0) return null;
    keys.sort((a, b) => compareKeys(a.Key!, b.Key!));
    return {
      marker: keys.some((o) => o.Key === prefix),
      other: keys.some((o) => o.Key !== prefix),
      modifiedAt: keys[0]!.LastModified ?? new Date(),
    };
  }

  /** S3 folders exist only while something is in them: keep the parent of a removed entry. */
  private async keepParent(p: BatonPath): Promise<void> {
    if (p.segments.length <= 2) return;
    const parent = parsePath('/' + p.segments.slice(0, -1).join('/'));
    const marker = this.layout.dirPrefix(parent);
    if (await this.exists(marker)) return;
    await this.putMarker(marker);
  }

  private async putMarker(key: string): Promise<void> {
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: '', ContentType: DIR_MARKER_TYPE }));
    } catch (err) {
      throw this.fail(err, 'creating a folder');
    }
  }

  // ---- reads ------------------------------------------------------------------------------

  async head(p: BatonPath): Promise<Head | null> {
    if (p.rel === '') return { type: 'directory', modifiedAt: this.openedAt };
    const ahead = this.prefetched.get(p.full);
    if (ahead) {
      this.prefetched.delete(p.full);
      const h = await ahead.catch(() => undefined);
      if (h !== undefined) return h;
    }
    return this.headNow(p);
  }

  /** A file (HEAD) or a folder (anything listed below it), asked side by side. */
  private async headNow(p: BatonPath): Promise<Head | null> {
    const [file, dir] = await Promise.all([this.headKey(p), this.dirInfo(p)]);
    if (file) return { type: 'file', file };
    return dir ? { type: 'directory', modifiedAt: dir.modifiedAt.toISOString() } : null;
  }

  async headFile(p: BatonPath): Promise<FileHead | null> {
    if (p.rel === '') return null;
    return this.headKey(p);
  }

  async get(p: BatonPath): Promise<{ head: FileHead; body: Readable } | 'directory' | null> {
    if (p.rel === '') return 'directory';
    let out;
    try {
      out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.layout.fileKey(p) }));
    } catch (err) {
      if (!isMissing(err)) throw this.fail(err, 'reading');
      return (await this.dirInfo(p)) ? 'directory' : null;
    }
    // The metadata of the same response: it describes exactly the bytes streamed.
    return { head: this.fileHead(p, out), body: out.Body as Readable };
  }

  async getVersion(p: BatonPath, version: number): Promise<Readable | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.layout.blobKey(p.rel, version) }));
      return out.Body as Readable;
    } catch (err) {
      if (isMissing(err)) return null;
      throw this.fail(err, 'reading a version');
    }
  }

  log(p: BatonPath): PathLog {
    return this.history.of(p.rel);
  }

  // ---- writes -----------------------------------------------------------------------------

  async spool(body: Readable, opts: { maxBytes: number; beforeLarge?: () => Promise<void> }): Promise<Spooled> {
    const spooled = await spool(body, {
      s3: this.s3,
      bucket: this.bucket,
      stagingKey: () => this.layout.stagingKey(),
      maxBytes: opts.maxBytes,
      partSize: this.partSize,
      queueSize: this.queueSize,
      onError: (err, op) => this.fail(err, op),
      beforeLarge: opts.beforeLarge,
    });
    return new S3Spool(spooled, (key) => this.deleteKey(key));
  }

  async spoolVersion(p: BatonPath, version: number): Promise<Spooled> {
    const key = this.layout.blobKey(p.rel, version);
    const out = await this.headObject(key);
    if (!out) throw new BatonError('not_found', `version ${version} of ${p.full} is not kept`);
    // The kept copy itself is the source of a server-side copy; it stays where it is.
    return new S3Spool({ kind: 'staged', key, size: Number(out.ContentLength ?? 0) }, null);
  }

  /**
   * Why a new file could not be created at `p`: a folder is there, or a parent is a file. Each
   * ancestor is asked side by side.
   */
  async prepareCreate(p: BatonPath): Promise<void> {
    const ancestors: string[] = [];
    for (let i = 1; i < p.segments.length - 1; i++) ancestors.push(this.layout.prefix + p.segments.slice(1, i + 1).join('/'));
    const [dir, ...files] = await Promise.all([this.dirInfo(p), ...ancestors.map((k) => this.exists(k))]);
    if (dir) throw new BatonError('conflict', `${p.full} is a directory`);
    if (files.some(Boolean)) throw new BatonError('conflict', 'a parent of this path is a file');
  }

  /**
   * Many S3 servers ignore conditional PUTs, so a create-only put relies on the path lock that
   * every replica takes (the store checked that nothing is there while holding it).
   */
  async put(p: BatonPath, src: Spooled, opts: PutOptions): Promise<FileHead | 'exists'> {
    const body = (src as S3Spool).body;
    const key = this.layout.fileKey(p);
    const meta = this.stampMeta(p, opts.stamp);
    let etag: string;
    if (body.kind === 'buffer') {
      try {
        const out = await this.s3.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body.data, ContentLength: body.size, ContentType: opts.mimeType, Metadata: meta }),
        );
        etag = bareS3Etag(out.ETag);
      } catch (err) {
        throw this.fail(err, 'writing');
      }
    } else {
      etag = await this.copy(body.key, key, { contentType: opts.mimeType, meta, replaces: opts.replaces !== null });
    }
    return { etag, size: body.size, modifiedAt: new Date().toISOString(), contentType: opts.mimeType, stamp: opts.stamp };
  }

  async keep(p: BatonPath, head: FileHead, version: number): Promise<void> {
    await this.copy(this.layout.fileKey(p), this.layout.blobKey(p.rel, version), { contentType: head.contentType, meta: {}, ifMatch: head.etag });
  }

  async remove(p: BatonPath, head: FileHead, version: number, lock: HeldLock): Promise<void> {
    await Promise.all([this.keep(p, head, version), this.keepParent(p)]);
    await lock.assertHeld();
    await this.deleteKey(this.layout.fileKey(p));
  }

  async rename(from: BatonPath, to: BatonPath, opts: RenameOptions, lock: HeldLock): Promise<FileHead | 'gone' | 'exists' | 'busy'> {
    const fromKey = this.layout.fileKey(from);
    const toKey = this.layout.fileKey(to);
    // The arbiter: one claim per source object. Whoever holds it alone may copy and delete it,
    // even if a path lock lapsed under a stalled holder. Keyed by the object's etag too, so a
    // claim left by a crashed mover only ever blocks that very object, and only until it expires.
    const claimed = await claim(this.redis, `baton:s3claim:${this.bucket}:${pathHash(fromKey)}:${opts.source.etag}`, CLAIM_TTL_MS).catch((err) => {
      throw new BatonError('unavailable', 'Redis is unreachable; cannot move', { cause: err });
    });
    if (!claimed) return 'busy';
    try {
      await this.keepParent(from);
      await lock.assertHeld();
      const etag = await this.copy(fromKey, toKey, {
        contentType: opts.mimeType,
        meta: this.stampMeta(to, opts.stamp),
        ifMatch: opts.source.etag,
        replaces: opts.replaces !== null,
      });
      try {
        await lock.assertHeld();
        await this.deleteKey(fromKey);
      } catch (err) {
        // The source stays: take the copy back so the file exists once.
        if (!opts.replaces) await this.deleteKey(toKey).catch(() => undefined);
        throw err;
      }
      return { etag, size: opts.source.size, modifiedAt: new Date().toISOString(), contentType: opts.mimeType, stamp: opts.stamp };
    } finally {
      await claimed.release();
    }
  }

  async renameFolder(): Promise<'gone' | 'exists' | 'ok'> {
    throw new BatonError('bad_request', 'folders of S3 workspaces cannot be moved');
  }

  async mkdir(p: BatonPath): Promise<void> {
    const marker = this.layout.dirPrefix(p);
    const ancestors: string[] = [];
    for (let i = 1; i < p.segments.length; i++) ancestors.push(this.layout.prefix + p.segments.slice(1, i + 1).join('/'));
    const [existing, ...files] = await Promise.all([this.exists(marker), ...ancestors.map((k) => this.exists(k))]);
    if (files.at(-1)) throw new BatonError('conflict', `${p.full} exists and is a file`);
    if (files.some(Boolean)) throw new BatonError('conflict', 'a parent of this path is a file');
    if (!existing) await this.putMarker(marker);
  }

  async removeFolder(p: BatonPath): Promise<'not_empty' | 'ok'> {
    const dir = await this.dirInfo(p);
    if (dir?.other) return 'not_empty';
    await this.keepParent(p);
    await this.deleteKey(this.layout.dirPrefix(p));
    return 'ok';
  }

  /** Every acknowledged S3 request is already durable. */
  async durable(): Promise<void> {}

  lock<T>(paths: readonly BatonPath[], fn: (held: HeldLock) => Promise<T>): Promise<T> {
    return this.locks.run(
      paths.map((p) => pathHash(this.layout.fileKey(p))),
      fn,
    );
  }

  // ---- listing ----------------------------------------------------------------------------

  /**
   * Entries in S3 key order, a folder placed where its contents start (`name/`), so a walk
   * resumes with `StartAfter` at any path it yielded. Folders are derived from the keys below
   * them (and from empty `name/` markers); folders the walk does not enter are skipped over,
   * not listed. Entries go out one per array: each file needs a HEAD, looked up ahead while the
   * caller handles the one before, so a larger array would only make the caller wait for more.
   */
  async *list(dir: BatonPath, opts: WalkOptions): AsyncGenerator<ListedEntry[]> {
    const base = this.layout.dirPrefix(dir);
    let startAfter: string | undefined;
    if (opts.after) {
      // A folder resumes inside itself (`name/`), a file right after its key.
      const isDir = (await this.dirInfo(opts.after).catch(() => null)) !== null;
      startAfter = this.layout.orderKey(opts.after, isDir ? 'directory' : 'file');
    }
    const lister = new KeyLister(this.s3, this.bucket, base, startAfter, (err) => this.fail(err, 'listing'));
    const atRoot = dir.rel === '';
    const mine: string[] = [];
    const remember = (path: string, entry: Promise<Head | null>) => {
      entry.catch(() => undefined);
      this.prefetched.set(path, entry);
      mine.push(path);
    };
    /** Look up the next files while the caller handles this one: listings need one HEAD per file. */
    const lookAhead = () => {
      for (const o of lister.peek(PREFETCH)) {
        const rest = o.key.slice(base.length);
        if (rest === '' || rest.endsWith('/') || (atRoot && rest.startsWith(META_DIR)) || (!opts.recursive && rest.includes('/'))) continue;
        let path: BatonPath;
        try {
          path = parsePath(`${dir.full}/${rest}`);
        } catch {
          continue;
        }
        if (this.prefetched.has(path.full)) continue;
        remember(path.full, this.headKey(path).then((file) => (file ? { type: 'file' as const, file } : null)));
      }
    };
    /** Folders of the chain currently open (their keys all end with '/'). */
    let open: string[] = [];
    try {
      for (let o = await lister.next(); o; o = await lister.next()) {
        const rest = o.key.slice(base.length);
        if (atRoot && rest.startsWith(META_DIR)) {
          lister.skipPast(base + META_DIR);
          continue;
        }
        const segs = rest.split('/');
        const isMarker = segs.at(-1) === '';
        const dirSegs = segs.slice(0, -1);
        // Which folders of this key's chain are new to this walk.
        let skipped = false;
        for (let i = 0; i < dirSegs.length; i++) {
          const dkey = base + dirSegs.slice(0, i + 1).join('/') + '/';
          let child: BatonPath;
          try {
            child = parsePath(`${dir.full}/${dirSegs.slice(0, i + 1).join('/')}`);
          } catch {
            lister.skipPast(dkey); // a folder no client could address is not shown, nor what is in it
            skipped = true;
            break;
          }
          if (open[i] !== dkey) {
            open = [...open.slice(0, i), dkey];
            if (startAfter === undefined || compareKeys(dkey, startAfter) > 0) {
              remember(child.full, Promise.resolve({ type: 'directory' as const, modifiedAt: o.lastModified.toISOString() }));
              yield [{ path: child, type: 'directory' }];
            }
          }
          if (!opts.recursive || (opts.descend && !opts.descend(child))) {
            lister.skipPast(dkey);
            skipped = true;
            break;
          }
        }
        if (skipped || isMarker) continue;
        open = open.slice(0, dirSegs.length);
        let file: BatonPath;
        try {
          file = parsePath(`${dir.full}/${rest}`);
        } catch {
          continue;
        }
        if (!this.prefetched.has(file.full)) {
          remember(file.full, this.headKey(file).then((f) => (f ? { type: 'file' as const, file: f } : null)));
        }
        lookAhead();
        yield [{ path: file, type: 'file' }];
      }
    } finally {
      for (const path of mine) this.prefetched.delete(path);
    }
  }

  /** Every file of the workspace with its etag, in key order: what the reconciler compares. */
  async *files(): AsyncGenerator<{ path: BatonPath; etag: string; size: number }> {
    const base = this.layout.prefix;
    const lister = new KeyLister(this.s3, this.bucket, base, undefined, (err) => this.fail(err, 'listing'));
    for (let o = await lister.next(); o; o = await lister.next()) {
      const rest = o.key.slice(base.length);
      if (rest.startsWith(META_DIR)) {
        lister.skipPast(base + META_DIR);
        continue;
      }
      if (rest === '' || rest.endsWith('/')) continue;
      let path: BatonPath;
      try {
        path = parsePath(`/${this.workspace}/${rest}`);
      } catch {
        continue;
      }
      yield { path, etag: o.etag, size: o.size };
    }
  }
}
