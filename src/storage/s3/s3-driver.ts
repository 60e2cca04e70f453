import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import { BatonError } from '../../core/errors.js';
import { guessMimeType } from '../../core/mime.js';
import { basename, parsePath, type BatonPath } from '../../core/paths.js';
import type {
  CommitHook,
  EntryMeta,
  MoveResult,
  StorageDriver,
  VersionInfo,
  WalkEntry,
  WalkOptions,
  WriteOptions,
  WriteResult,
} from '../driver.js';
import { createS3Client } from './client.js';
import { isMissing, isPreconditionFailed, s3Error } from './errors.js';
import { S3History, type VersionRecord } from './history.js';
import { compareKeys, copySource, decodeMeta, encodeMeta, META_DIR, pathHash, S3Layout } from './keys.js';
import { bareS3Etag, KeyLister } from './lister.js';
import { claim, RedisPathLocks } from './redis-lock.js';
import { spool, type Spooled } from './upload.js';

export interface S3StorageConfig {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  reconcileSeconds: number;
}

export interface S3DriverOptions {
  /** Multipart part size and the in-memory limit of a single PUT (default 5 MiB, S3's minimum part). */
  partSize?: number;
  queueSize?: number;
  lockTtlMs?: number;
  lockWaitMs?: number;
  client?: S3Client;
}

/** What HEAD/GET tell about the object at a key. */
interface ObjectHead {
  key: string;
  etag: string;
  size: number;
  contentType: string | null;
  lastModified: Date;
  meta: Record<string, string>;
}

/** What an object's own metadata says about the Baton write that made it, when it is about this path. */
interface Stamp {
  version: number;
  actor: string;
}

const META = { path: 'baton-path', version: 'baton-version', actor: 'baton-actor' } as const;
const GENERIC_TYPES = new Set(['binary/octet-stream', 'application/octet-stream', '']);
/** Outlives any one move (a copy of the largest object), not much more. */
const CLAIM_TTL_MS = 5 * 60_000;
const DIR_MARKER_TYPE = 'application/x-directory';
/** How many files a walk looks up ahead of its caller. */
const PREFETCH = 16;

function tombstone(version: number, actor: string): VersionRecord {
  return { version, etag: null, size: 0, mimeType: null, time: new Date().toISOString(), actor, deleted: true };
}

/**
 * Workspaces in an S3 bucket (AWS, MinIO, or anything that speaks the S3 API). Files are plain
 * objects at `prefix + path`, so other tools can read and drop files straight into the bucket;
 * Baton's version logs, kept copies and staging uploads live under `prefix + .baton/`, which no
 * client path can name and no listing shows.
 *
 * S3 has no rename and (on many servers) no conditional writes, so every change of a path runs
 * under a per-path Redis lock shared by all replicas: the precondition checks, the kept copy of
 * the bytes being replaced, the write and the event all happen inside it, in that order. A
 * move is copy-then-delete; a Redis claim on the source object makes it exactly-once even if a
 * lock lapsed. An object's ETag is its etag.
 */
export class S3Driver implements StorageDriver {
  readonly kind = 's3' as const;
  readonly layout: S3Layout;
  readonly s3: S3Client;
  readonly bucket: string;
  private readonly locks: RedisPathLocks;
  private readonly history: S3History;
  private readonly partSize: number;
  private readonly queueSize: number;
  private pendingFolders: string[] = [];
  /** Entries a running walk looked up ahead of its caller's `stat`s; dropped when the walk ends. */
  private readonly prefetched = new Map<string, Promise<EntryMeta | null>>();
  private readonly openedAt = new Date().toISOString();
  /** Whether a copy that replaces an object keeps the old ETag (s3rver does); null until probed. */
  private copyKeepsStaleEtag: boolean | null = null;
  private closed = false;

  constructor(
    readonly workspace: string,
    readonly config: S3StorageConfig,
    private readonly redis: Redis,
    opts: S3DriverOptions = {},
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

  private fail(err: unknown, op: string): BatonError {
    return s3Error(err, { workspace: this.workspace, bucket: this.bucket, op });
  }

  private lockId(p: BatonPath): string {
    return pathHash(this.layout.fileKey(p));
  }

  // ---- lifecycle --------------------------------------------------------------------------

  async init(folders: readonly string[]): Promise<void> {
    this.pendingFolders = [...folders];
    try {
      await this.probeCopy();
      await this.createPendingFolders();
    } catch (err) {
      // The bucket may be down right now: the workspace still opens (answering `unavailable`
      // until it is back, with /readyz saying so) and the folders are made when it returns.
      if (!(err instanceof BatonError && err.code === 'unavailable')) throw err;
    }
    void this.sweepStaging().catch(() => undefined);
  }

  private async createPendingFolders(): Promise<void> {
    while (this.pendingFolders.length > 0) {
      const f = this.pendingFolders[0]!;
      await this.mkdir(parsePath(`/${this.workspace}/${f}`));
      this.pendingFolders.shift();
    }
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
    if (this.pendingFolders.length > 0) await this.createPendingFolders().catch(() => undefined);
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

  // ---- low-level object calls -------------------------------------------------------------

  private async head(key: string): Promise<ObjectHead | null> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        etag: bareS3Etag(out.ETag),
        size: Number(out.ContentLength ?? 0),
        contentType: out.ContentType ?? null,
        lastModified: out.LastModified ?? new Date(),
        meta: out.Metadata ?? {},
      };
    } catch (err) {
      if (isMissing(err)) return null;
      throw this.fail(err, 'reading metadata');
    }
  }

  private async deleteKey(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isMissing(err)) return;
      throw this.fail(err, 'deleting');
    }
  }

  private stampMeta(p: BatonPath, version: number, actor: string): Record<string, string> {
    return { [META.path]: pathHash(p.rel).slice(0, 32), [META.version]: String(version), [META.actor]: encodeMeta(actor) };
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
      return (await this.head(to))?.etag ?? '';
    } catch (err) {
      if (isMissing(err)) throw new BatonError('not_found', 'the object was removed while being copied');
      if (isPreconditionFailed(err)) throw new BatonError('conflict', 'the object changed while being copied; try again');
      throw this.fail(err, 'copying');
    }
  }

  /** The write stamp of an object, if Baton made it for this very path. */
  private stampOf(p: BatonPath, h: ObjectHead): Stamp | null {
    if (h.meta[META.path] !== pathHash(p.rel).slice(0, 32)) return null;
    const version = Number(h.meta[META.version]);
    const actor = decodeMeta(h.meta[META.actor]);
    if (!Number.isInteger(version) || version < 1 || !actor) return null;
    return { version, actor };
  }

  private foreignMime(p: BatonPath, h: ObjectHead): string {
    const t = h.contentType?.trim() ?? '';
    return GENERIC_TYPES.has(t) ? guessMimeType(basename(p)) : t;
  }

  /** Describe a file: its stamp when Baton wrote it; else one version past what the log knows. */
  private async describe(p: BatonPath, h: ObjectHead, records?: VersionRecord[]): Promise<EntryMeta> {
    const base = { path: p.full, type: 'file' as const, size: h.size, etag: h.etag, modifiedAt: h.lastModified.toISOString() };
    const stamp = this.stampOf(p, h);
    if (stamp) return { ...base, mimeType: h.contentType ?? guessMimeType(basename(p)), version: stamp.version };
    const latest = (records ?? (await this.history.read(p.rel))).at(-1) ?? null;
    if (latest && !latest.deleted && latest.etag === h.etag) return { ...base, mimeType: latest.mimeType, version: latest.version };
    return { ...base, mimeType: this.foreignMime(p, h), version: (latest?.version ?? 0) + 1 };
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

  private dirEntry(p: BatonPath, modifiedAt: string): EntryMeta {
    return { path: p.full, type: 'directory', size: 0, etag: null, mimeType: null, modifiedAt, version: null };
  }

  /**
   * Why a new file could not be created at `p` (a folder is there, or a parent is a file), or
   * null. Run beside the HEAD of the path itself; its answer only matters when nothing is there.
   */
  private async creationProblem(p: BatonPath): Promise<BatonError | null> {
    const ancestors: string[] = [];
    for (let i = 1; i < p.segments.length - 1; i++) ancestors.push(this.layout.prefix + p.segments.slice(1, i + 1).join('/'));
    const [dir, ...files] = await Promise.all([this.dirInfo(p), ...ancestors.map((k) => this.head(k))]);
    if (dir) return new BatonError('conflict', `${p.full} is a directory`);
    if (files.some((f) => f !== null)) return new BatonError('conflict', 'a parent of this path is a file');
    return null;
  }

  /** S3 folders exist only while something is in them: keep the parent of a removed entry. */
  private async keepParent(p: BatonPath): Promise<void> {
    if (p.segments.length <= 2) return;
    const parent = parsePath('/' + p.segments.slice(0, -1).join('/'));
    const marker = this.layout.dirPrefix(parent);
    if (await this.head(marker)) return;
    await this.putMarker(marker);
  }

  private async putMarker(key: string): Promise<void> {
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: '', ContentType: DIR_MARKER_TYPE }));
    } catch (err) {
      throw this.fail(err, 'creating a folder');
    }
  }

  /**
   * Keep the bytes now at `p` as a version before they are replaced or removed: a record in
   * the log (the live object's stamp described it until now; bytes another tool dropped into
   * the bucket get actor `s3`) and a copy of the bytes under `v<N>`, written side by side.
   * Returns the record; `records` gets it appended.
   */
  private async preserve(p: BatonPath, cur: ObjectHead, records: VersionRecord[], opts: { keepBytes?: boolean } = {}): Promise<VersionRecord> {
    const rec = this.recordOf(p, cur, records);
    const work: Promise<unknown>[] = [];
    if (records.at(-1) !== rec) {
      records.push(rec);
      work.push(this.history.write(p.rel, records));
    }
    if (opts.keepBytes !== false) {
      work.push(this.copy(cur.key, this.layout.blobKey(p.rel, rec.version), { contentType: rec.mimeType, meta: {}, ifMatch: cur.etag }));
    }
    await Promise.all(work);
    return rec;
  }

  /** The log's record of the live object: the last one if it already describes it, else a new one. */
  private recordOf(p: BatonPath, cur: ObjectHead, records: readonly VersionRecord[]): VersionRecord {
    const latest = records.at(-1) ?? null;
    if (latest && !latest.deleted && latest.etag === cur.etag) return latest;
    const stamp = this.stampOf(p, cur);
    const next = (latest?.version ?? 0) + 1;
    return {
      version: stamp && stamp.version >= next ? stamp.version : next,
      etag: cur.etag,
      size: cur.size,
      mimeType: stamp ? (cur.contentType ?? guessMimeType(basename(p))) : this.foreignMime(p, cur),
      time: cur.lastModified.toISOString(),
      actor: stamp?.actor ?? 's3',
      deleted: false,
    };
  }

  // ---- reads ------------------------------------------------------------------------------

  async stat(p: BatonPath): Promise<EntryMeta | null> {
    if (p.rel === '') return this.dirEntry(p, this.openedAt);
    const ahead = this.prefetched.get(p.full);
    if (ahead) {
      this.prefetched.delete(p.full);
      const entry = await ahead.catch(() => undefined);
      if (entry !== undefined) return entry;
    }
    return this.statNow(p);
  }

  /** A file (HEAD) or a folder (anything listed below it), asked side by side. */
  private async statNow(p: BatonPath): Promise<EntryMeta | null> {
    const [h, dir] = await Promise.all([this.head(this.layout.fileKey(p)), this.dirInfo(p)]);
    if (h) return this.describe(p, h);
    return dir ? this.dirEntry(p, dir.modifiedAt.toISOString()) : null;
  }

  /**
   * For the reconciler, holding the path's lock after it reported a change made outside Baton:
   * put that state in the version log (a record for bytes another tool wrote, a tombstone for
   * an object another tool removed), so the next version gets the next number.
   */
  async noteOutsideChange(p: BatonPath): Promise<void> {
    const [cur, records] = await Promise.all([this.head(this.layout.fileKey(p)), this.history.read(p.rel)]);
    const latest = records.at(-1) ?? null;
    if (cur) {
      const rec = this.recordOf(p, cur, records);
      if (rec === latest) return;
      records.push(rec);
    } else {
      if (!latest || latest.deleted) return;
      records.push(tombstone(latest.version + 1, 's3'));
    }
    await this.history.write(p.rel, records);
  }

  /** For the reconciler: the entry and who wrote it according to the object itself. */
  async inspect(p: BatonPath): Promise<{ entry: EntryMeta | null; writer: string | null }> {
    const h = await this.head(this.layout.fileKey(p));
    if (!h) return { entry: null, writer: null };
    const stamp = this.stampOf(p, h);
    return { entry: await this.describe(p, h), writer: stamp?.actor ?? null };
  }

  async read(p: BatonPath, opts: { version?: number } = {}): Promise<{ entry: EntryMeta; body: Readable }> {
    if (opts.version !== undefined) return this.readVersion(p, opts.version);
    if (p.rel === '') throw new BatonError('bad_request', `${p.full} is a directory`);
    let out;
    try {
      out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.layout.fileKey(p) }));
    } catch (err) {
      if (!isMissing(err)) throw this.fail(err, 'reading');
      if (await this.dirInfo(p)) throw new BatonError('bad_request', `${p.full} is a directory`);
      throw new BatonError('not_found', `${p.full} does not exist`);
    }
    const body = out.Body as Readable;
    try {
      // The metadata of the same response: it describes exactly the bytes streamed.
      const entry = await this.describe(p, {
        key: this.layout.fileKey(p),
        etag: bareS3Etag(out.ETag),
        size: Number(out.ContentLength ?? 0),
        contentType: out.ContentType ?? null,
        lastModified: out.LastModified ?? new Date(),
        meta: out.Metadata ?? {},
      });
      return { entry, body };
    } catch (err) {
      body.destroy();
      throw err;
    }
  }

  private async readVersion(p: BatonPath, version: number): Promise<{ entry: EntryMeta; body: Readable }> {
    const [records, cur] = await Promise.all([this.history.read(p.rel), this.head(this.layout.fileKey(p))]);
    if (cur) {
      const entry = await this.describe(p, cur, records);
      if (entry.version === version) {
        const live = await this.read(p).catch(() => null);
        if (live && live.entry.version === version) return live;
        live?.body.destroy();
      }
    }
    const rec = records.find((r) => r.version === version);
    if (!rec) throw new BatonError('not_found', `${p.full} has no version ${version}`);
    if (rec.deleted) throw new BatonError('not_found', `version ${version} of ${p.full} is a deletion marker`);
    let out;
    try {
      out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.layout.blobKey(p.rel, version) }));
    } catch (err) {
      if (!isMissing(err)) throw this.fail(err, 'reading a version');
      const why = rec.movedTo ? `its bytes were moved to ${rec.movedTo}` : 'its bytes are no longer kept';
      throw new BatonError('not_found', `version ${version} of ${p.full}: ${why}`);
    }
    const entry: EntryMeta = { path: p.full, type: 'file', size: rec.size, etag: rec.etag, mimeType: rec.mimeType, modifiedAt: rec.time, version: rec.version };
    return { entry, body: out.Body as Readable };
  }

  async versions(p: BatonPath): Promise<VersionInfo[]> {
    const [records, cur, dir] = await Promise.all([this.history.read(p.rel), this.head(this.layout.fileKey(p)), this.dirInfo(p)]);
    if (!cur && dir) throw new BatonError('bad_request', `${p.full} is a directory`);
    const out: VersionInfo[] = records.map(({ movedTo: _movedTo, ...r }) => r);
    if (cur) {
      const rec = this.recordOf(p, cur, records);
      if (rec !== records.at(-1)) out.push(rec);
    }
    if (out.length === 0) throw new BatonError('not_found', `${p.full} has no versions`);
    return out.reverse();
  }

  /** The current version (from the live object's stamp) or else the log's last record. */
  async lastRecord(p: BatonPath): Promise<VersionInfo | null> {
    const [records, cur] = await Promise.all([this.history.read(p.rel), this.head(this.layout.fileKey(p))]);
    const rec = cur ? this.recordOf(p, cur, records) : (records.at(-1) ?? null);
    if (!rec) return null;
    const { movedTo: _movedTo, ...info } = rec;
    return info;
  }

  // ---- writes -----------------------------------------------------------------------------

  async write(p: BatonPath, body: Readable, opts: WriteOptions): Promise<WriteResult> {
    if (p.rel === '') {
      body.destroy();
      throw new BatonError('bad_request', 'cannot write a workspace root');
    }
    const key = this.layout.fileKey(p);
    const spooled = await spool(body, {
      s3: this.s3,
      bucket: this.bucket,
      stagingKey: () => this.layout.stagingKey(),
      maxBytes: opts.maxBytes,
      partSize: this.partSize,
      queueSize: this.queueSize,
      onError: (err, op) => this.fail(err, op),
      // Before streaming a large body anywhere: refuse early what the precondition will refuse.
      beforeLarge: async () => {
        if (!opts.ifNoneMatch && opts.ifMatch === undefined) return;
        const cur = await this.head(key);
        if (opts.ifNoneMatch && cur) throw new BatonError('precondition_failed', `${p.full} already exists`);
        if (opts.ifMatch !== undefined && cur?.etag !== opts.ifMatch) throw new BatonError('precondition_failed', `${p.full} does not match the given etag`);
      },
    });
    try {
      return await this.locks.run([this.lockId(p)], (lock) => this.commitWrite(p, spooled, opts, lock));
    } finally {
      if (spooled.kind === 'staged') await this.deleteKey(spooled.key).catch(() => undefined);
    }
  }

  /**
   * Under the path lock: check preconditions, keep the prior version, put the new bytes in
   * place, record the event. The live object's metadata (its stamp) describes the current
   * version; the log only gains a record when a version is superseded. A create is two rounds
   * of requests (the checks, the PUT); an update three (the checks, the kept copy with its log
   * record, the PUT).
   */
  private async commitWrite(p: BatonPath, src: Spooled, opts: WriteOptions, lock: { assertHeld(): Promise<void> }): Promise<WriteResult> {
    const key = this.layout.fileKey(p);
    const [cur, records, problem] = await Promise.all([this.head(key), this.history.read(p.rel), this.creationProblem(p)]);
    if (!cur && problem) throw problem;
    if (opts.ifNoneMatch && cur) throw new BatonError('precondition_failed', `${p.full} already exists`);
    if (opts.ifMatch !== undefined && (!cur || cur.etag !== opts.ifMatch)) {
      throw new BatonError('precondition_failed', `${p.full} does not match the given etag`);
    }
    const latest = cur ? await this.preserve(p, cur, records) : (records.at(-1) ?? null);
    const version = (latest?.version ?? 0) + 1;
    const meta = this.stampMeta(p, version, opts.actor);
    await lock.assertHeld();
    let etag: string;
    if (src.kind === 'buffer') {
      try {
        const out = await this.s3.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: src.data, ContentLength: src.size, ContentType: opts.mimeType, Metadata: meta }),
        );
        etag = bareS3Etag(out.ETag);
      } catch (err) {
        throw this.fail(err, 'writing');
      }
    } else {
      etag = await this.copy(src.key, key, { contentType: opts.mimeType, meta, replaces: cur !== null });
    }
    const result: WriteResult = {
      entry: { path: p.full, type: 'file', size: src.size, etag, mimeType: opts.mimeType, modifiedAt: new Date().toISOString(), version },
      created: !cur,
    };
    await opts.onCommit?.(result);
    return result;
  }

  async mkdir(p: BatonPath): Promise<void> {
    if (p.rel === '') return;
    const marker = this.layout.dirPrefix(p);
    const ancestors: string[] = [];
    for (let i = 1; i < p.segments.length; i++) ancestors.push(this.layout.prefix + p.segments.slice(1, i + 1).join('/'));
    const [existing, ...files] = await Promise.all([this.head(marker), ...ancestors.map((k) => this.head(k))]);
    if (files.at(-1)) throw new BatonError('conflict', `${p.full} exists and is a file`);
    if (files.some((f) => f !== null)) throw new BatonError('conflict', 'a parent of this path is a file');
    if (!existing) await this.putMarker(marker);
  }

  async delete(p: BatonPath, opts: { actor: string; ifMatch?: string; onCommit?: CommitHook<EntryMeta> }): Promise<EntryMeta> {
    if (p.rel === '') throw new BatonError('bad_request', 'cannot delete a workspace root');
    return this.locks.run([this.lockId(p)], async (lock) => {
      const key = this.layout.fileKey(p);
      const [cur, records] = await Promise.all([this.head(key), this.history.read(p.rel)]);
      if (!cur) {
        const dir = await this.dirInfo(p);
        if (!dir) throw new BatonError('not_found', `${p.full} does not exist`);
        if (dir.other) throw new BatonError('conflict', `${p.full} is a directory that is not empty`);
        const entry = this.dirEntry(p, dir.modifiedAt.toISOString());
        await this.keepParent(p);
        await this.deleteKey(this.layout.dirPrefix(p));
        return entry;
      }
      if (opts.ifMatch !== undefined && cur.etag !== opts.ifMatch) {
        throw new BatonError('precondition_failed', `${p.full} does not match the given etag`);
      }
      const [kept] = await Promise.all([this.preserve(p, cur, records), this.keepParent(p)]);
      const entry: EntryMeta = {
        path: p.full,
        type: 'file',
        size: cur.size,
        etag: cur.etag,
        mimeType: kept.mimeType,
        modifiedAt: cur.lastModified.toISOString(),
        version: kept.version,
      };
      await lock.assertHeld();
      await this.deleteKey(key);
      records.push(tombstone(kept.version + 1, opts.actor));
      await this.history.write(p.rel, records);
      await opts.onCommit?.(entry);
      return entry;
    });
  }

  async move(from: BatonPath, to: BatonPath, opts: { actor: string; overwrite: boolean; onCommit?: CommitHook<MoveResult> }): Promise<MoveResult> {
    if (from.rel === '' || to.rel === '') throw new BatonError('bad_request', 'cannot move a workspace root');
    if (to.full === from.full) throw new BatonError('bad_request', 'source and destination are the same');
    if (to.full.startsWith(from.full + '/')) throw new BatonError('bad_request', 'cannot move a folder into itself');
    const fromKey = this.layout.fileKey(from);
    const toKey = this.layout.fileKey(to);
    return this.locks.run([this.lockId(from), this.lockId(to)], async (lock) => {
      const cur = await this.head(fromKey);
      if (!cur) {
        if (await this.dirInfo(from)) throw new BatonError('bad_request', `${from.full} is a folder; folders of S3 workspaces cannot be moved, move its files instead`);
        throw new BatonError('not_found', `${from.full} does not exist`);
      }
      // The arbiter: one claim per source object. Whoever holds it alone may copy and delete
      // it, even if a path lock lapsed under a stalled holder.
      // Keyed by the object's etag too, so a claim left by a crashed mover only ever blocks that
      // very object, and only until it expires.
      const claimed = await claim(this.redis, `baton:s3claim:${this.bucket}:${pathHash(fromKey)}:${cur.etag}`, CLAIM_TTL_MS).catch((err) => {
        throw new BatonError('unavailable', 'Redis is unreachable; cannot move', { cause: err });
      });
      if (!claimed) throw new BatonError('conflict', `${from.full} is being moved by another request`);
      try {
        const [dest, fromRecs, toRecs, problem] = await Promise.all([
          this.head(toKey),
          this.history.read(from.rel),
          this.history.read(to.rel),
          this.creationProblem(to),
        ]);
        if (dest && !opts.overwrite) throw new BatonError('conflict', `${to.full} already exists`);
        if (!dest && problem) throw problem;
        // The source's version is recorded (its bytes go to the destination, not to a kept copy);
        // a replaced destination keeps its bytes as a version.
        const [fromRec] = await Promise.all([
          this.preserve(from, cur, fromRecs, { keepBytes: false }),
          dest ? this.preserve(to, dest, toRecs) : null,
          this.keepParent(from),
        ]);
        const fromEntry: EntryMeta = {
          path: from.full,
          type: 'file',
          size: cur.size,
          etag: cur.etag,
          mimeType: fromRec.mimeType,
          modifiedAt: cur.lastModified.toISOString(),
          version: fromRec.version,
        };
        const version = (toRecs.at(-1)?.version ?? 0) + 1;
        await lock.assertHeld();
        const etag = await this.copy(fromKey, toKey, {
          contentType: fromEntry.mimeType,
          meta: this.stampMeta(to, version, opts.actor),
          ifMatch: cur.etag,
          replaces: dest !== null,
        });
        try {
          await lock.assertHeld();
          await this.deleteKey(fromKey);
        } catch (err) {
          // The source stays: take the copy back so the file exists once.
          if (!dest) await this.deleteKey(toKey).catch(() => undefined);
          throw err;
        }
        fromRecs.push({ ...tombstone(fromRec.version + 1, opts.actor), movedTo: to.full });
        await this.history.write(from.rel, fromRecs);
        const moved: MoveResult = {
          from: fromEntry,
          to: { path: to.full, type: 'file', size: cur.size, etag, mimeType: fromEntry.mimeType, modifiedAt: new Date().toISOString(), version },
        };
        await opts.onCommit?.(moved);
        return moved;
      } finally {
        await claimed.release();
      }
    });
  }

  async restore(p: BatonPath, version: number, opts: { actor: string; onCommit?: CommitHook<WriteResult> }): Promise<WriteResult & { restoredFrom: number }> {
    return this.locks.run([this.lockId(p)], async (lock) => {
      const key = this.layout.fileKey(p);
      const [cur, records, problem] = await Promise.all([this.head(key), this.history.read(p.rel), this.creationProblem(p)]);
      if (!cur && problem) throw problem;
      const curRec = cur ? this.recordOf(p, cur, records) : null;
      let source: { key: string; size: number; mimeType: string | null };
      if (curRec && curRec.version === version) {
        source = { key, size: curRec.size, mimeType: curRec.mimeType };
      } else {
        const rec = records.find((r) => r.version === version);
        if (!rec) throw new BatonError('not_found', `${p.full} has no version ${version}`);
        if (rec.deleted) throw new BatonError('not_found', `version ${version} of ${p.full} is a deletion marker`);
        const blob = this.layout.blobKey(p.rel, version);
        if (!(await this.head(blob))) {
          const why = rec.movedTo ? `its bytes were moved to ${rec.movedTo}` : 'its bytes are no longer kept';
          throw new BatonError('not_found', `version ${version} of ${p.full}: ${why}`);
        }
        source = { key: blob, size: rec.size, mimeType: rec.mimeType };
      }
      if (cur) {
        const kept = await this.preserve(p, cur, records);
        if (source.key === key) source = { ...source, key: this.layout.blobKey(p.rel, kept.version) };
      }
      const next = (records.at(-1)?.version ?? 0) + 1;
      const mimeType = source.mimeType ?? guessMimeType(basename(p));
      await lock.assertHeld();
      const etag = await this.copy(source.key, key, { contentType: mimeType, meta: this.stampMeta(p, next, opts.actor), replaces: cur !== null });
      const result = {
        entry: { path: p.full, type: 'file' as const, size: source.size, etag, mimeType, modifiedAt: new Date().toISOString(), version: next },
        created: !cur,
        restoredFrom: version,
      };
      await opts.onCommit?.(result);
      return result;
    });
  }

  withPathLock<T>(paths: readonly BatonPath[], fn: () => Promise<T>): Promise<T> {
    return this.locks.run(
      paths.map((x) => this.lockId(x)),
      () => fn(),
    );
  }

  // ---- walking ----------------------------------------------------------------------------

  walk(dir: BatonPath, opts: WalkOptions): AsyncIterable<WalkEntry> {
    return this.walkFrom(dir, opts);
  }

  /**
   * Entries in S3 key order, a folder placed where its contents start (`name/`), so a walk
   * resumes with `StartAfter` at any path it yielded. Folders are derived from the keys below
   * them (and from empty `name/` markers); folders the walk does not enter are skipped over,
   * not listed.
   */
  private async *walkFrom(dir: BatonPath, opts: WalkOptions): AsyncGenerator<WalkEntry> {
    if (dir.rel !== '') {
      const st = await this.stat(dir);
      if (!st) throw new BatonError('not_found', `${dir.full} does not exist`);
      if (st.type !== 'directory') throw new BatonError('bad_request', `${dir.full} is not a directory`);
    }
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
    const remember = (path: string, entry: Promise<EntryMeta | null>) => {
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
        remember(path.full, this.head(o.key).then((h) => (h ? this.describe(path, h) : null)));
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
              remember(child.full, Promise.resolve(this.dirEntry(child, o.lastModified.toISOString())));
              yield { path: child, type: 'directory' };
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
          remember(file.full, this.head(o.key).then((h) => (h ? this.describe(file, h) : null)));
        }
        lookAhead();
        yield { path: file, type: 'file' };
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
