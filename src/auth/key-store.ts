import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BatonError } from '../core/errors.js';
import { InvalidatedCache } from '../core/invalidated-cache.js';
import { formatGrant, parseGrant, parseNewGrant, type Grant } from './grants.js';
import type { Principal, RateLimits } from './principal.js';

export interface KeyRecord {
  id: string;
  agent: string;
  grants: string[];
  human: boolean;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  limits: RateLimits | null;
}

export interface NewKey {
  agent: string;
  grants: string[];
  human?: boolean;
  expiresAt?: string | null;
  limits?: RateLimits | null;
}

const PREFIX = 'baton:key';
/** Every change to a key record publishes its hash here, in the same MULTI as the change. */
const CHANGED = 'baton:keys:changed';
const KEY_PREFIX = 'bk_';

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * Agent keys in Redis. Only a SHA-256 of each key is stored: keys are 192 random bits, so a
 * fast hash is as safe as a slow one. Once `start`ed, records are held in the process and
 * dropped on the pub/sub message every change publishes, or all at once whenever that
 * subscription is not known to be live (see InvalidatedCache): a revocation holds on the next
 * request of every replica. Expiry is checked on every request, cached or not.
 */
export class KeyStore {
  private readonly cache = new InvalidatedCache<KeyRecord>({ channel: CHANGED, ttlMs: 60_000, maxEntries: 10_000 });

  constructor(private readonly redis: Redis) {}

  /** Start holding key records in the process (without it, every request reads Redis). */
  async start(): Promise<void> {
    await this.cache.start(this.redis);
  }

  async stop(): Promise<void> {
    await this.cache.stop();
  }

  async create(input: NewKey): Promise<{ record: KeyRecord; key: string }> {
    const grants: Grant[] = input.grants.map(parseNewGrant);
    if (input.expiresAt) {
      const t = Date.parse(input.expiresAt);
      if (Number.isNaN(t)) throw new BatonError('bad_request', 'expiresAt is not an ISO 8601 time');
      if (t <= Date.now()) throw new BatonError('bad_request', 'expiresAt is in the past');
    }
    const id = `key_${randomBytes(8).toString('hex')}`;
    const key = `${KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    const record: KeyRecord = {
      id,
      agent: input.agent,
      grants: grants.map(formatGrant),
      human: input.human ?? false,
      createdAt: new Date().toISOString(),
      expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
      revokedAt: null,
      limits: input.limits ?? null,
    };
    const h = digest(key);
    await this.redis
      .multi()
      .set(`${PREFIX}:byhash:${h}`, JSON.stringify(record))
      .set(`${PREFIX}:byid:${id}`, h)
      .sadd(`${PREFIX}s`, id)
      .publish(CHANGED, h)
      .exec();
    return { record, key };
  }

  /** The principal for a presented key, or `unauthorized` (unknown, revoked or expired). */
  async authenticate(key: string): Promise<Principal & { kind: 'key' }> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 200) throw new BatonError('unauthorized', 'unknown key');
    const h = digest(key);
    const rec = await this.cache.get(h, async () => {
      const raw = await this.redis.get(`${PREFIX}:byhash:${h}`);
      return raw ? (JSON.parse(raw) as KeyRecord) : null;
    });
    if (!rec) throw new BatonError('unauthorized', 'unknown key');
    if (rec.revokedAt) throw new BatonError('unauthorized', 'key has been revoked');
    if (rec.expiresAt && Date.parse(rec.expiresAt) <= Date.now()) throw new BatonError('unauthorized', 'key has expired');
    return {
      kind: 'key',
      id: rec.id,
      agent: rec.agent,
      human: rec.human,
      grants: rec.grants.map(parseGrant),
      limits: rec.limits ?? undefined,
    };
  }

  async list(): Promise<KeyRecord[]> {
    const ids = (await this.redis.smembers(`${PREFIX}s`)).sort();
    const out: KeyRecord[] = [];
    for (const id of ids) {
      const rec = await this.get(id);
      if (rec) out.push(rec);
    }
    return out;
  }

  async get(id: string): Promise<KeyRecord | null> {
    const h = await this.redis.get(`${PREFIX}:byid:${id}`);
    if (!h) return null;
    const raw = await this.redis.get(`${PREFIX}:byhash:${h}`);
    return raw ? (JSON.parse(raw) as KeyRecord) : null;
  }

  async revoke(id: string): Promise<KeyRecord> {
    const h = await this.redis.get(`${PREFIX}:byid:${id}`);
    const raw = h ? await this.redis.get(`${PREFIX}:byhash:${h}`) : null;
    if (!h || !raw) throw new BatonError('not_found', `no key ${id}`);
    const rec = JSON.parse(raw) as KeyRecord;
    if (!rec.revokedAt) {
      rec.revokedAt = new Date().toISOString();
      this.cache.invalidate(h);
      const replies = await this.redis.multi().set(`${PREFIX}:byhash:${h}`, JSON.stringify(rec)).publish(CHANGED, h).exec();
      const failed = replies?.find(([err]) => err);
      if (!replies || failed) throw failed?.[0] ?? new Error('key revocation was not applied');
      this.cache.invalidate(h);
    }
    return rec;
  }
}
