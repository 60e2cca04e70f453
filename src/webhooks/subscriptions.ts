import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BatonError } from '../core/errors.js';
import { InvalidatedCache } from '../core/invalidated-cache.js';
import { matchesGlob } from '../core/glob.js';
import type { BatonEvent, EventType } from '../events/event.js';
import { LuaScript } from '../redis/lua-script.js';
import { newSecret } from './signature.js';

export interface Subscription {
  id: string;
  url: string;
  paths: string[];
  events: EventType[] | null;
  secret: string;
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  /** Paused by its owner: deliveries are held in the backlog (see `hold`) until resumed. */
  paused?: boolean;
  pausedAt?: string | null;
  /** Who made it: a key id, `admin`, or `yaml:<workspace>` for declared ones. */
  owner: string;
}

export type PublicSubscription = Omit<Subscription, 'secret' | 'owner' | 'paused' | 'pausedAt'> & { paused: boolean; pausedAt: string | null };

const HASH = 'baton:subs';
/** Every change to the hash is published here, in the same MULTI as the change. */
const CHANGED = 'baton:subs:changed';

export function publicView(s: Subscription): PublicSubscription {
  const { secret: _secret, owner: _owner, ...rest } = s;
  return { ...rest, paused: s.paused === true, pausedAt: s.pausedAt ?? null };
}

/**
 * Pausing, and why it is built this way. The delivery jobs of a paused subscription are still
 * made (so catch-up, replay and crash recovery need no special case), but the worker, before
 * sending, runs HOLD: in one script it reads the subscription record and, if it is paused, files
 * the event in the subscription's backlog (a sorted set by event time, with the events beside
 * it) and the job ends without a POST. A job that was waiting for a retry is held the same way.
 * Resuming reads the backlog oldest first, queues each held event under a job id fixed for that
 * pause (so a resume cut short and run again adds nothing twice) and marked with the pause it was
 * released from, and only then runs RELEASE: it drops what was queued and, once the backlog is
 * empty and the record is still the one read, clears the flag in the same script. HOLD lets a
 * job released from the current pause through even before the flag is cleared (else it would be
 * held again, find itself already in the backlog, and vanish when RELEASE drops it); any other
 * job that comes while the flag is set stays in the backlog for the next round, and once the flag
 * is cleared HOLD lets every job through. Nothing is dropped, the held events go into the queue
 * ahead of anything newer and in the order they were written, and each one is queued once.
 */
const backlogKey = (id: string) => `baton:sub:${id}:backlog`;
const heldKey = (id: string) => `baton:sub:${id}:held`;

const HOLD = new LuaScript(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local ok, sub = pcall(cjson.decode, raw)
if not ok or sub.paused ~= true then return 0 end
if ARGV[5] ~= '' and sub.pausedAt == ARGV[5] then return 0 end
if redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[2]) == 1 then redis.call('HSET', KEYS[3], ARGV[2], ARGV[4]) end
return 1
`);

const RELEASE = new LuaScript(`
for i = 4, #ARGV do
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
end
local left = redis.call('ZCARD', KEYS[2])
if left > 0 then return left end
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('PUBLISH', KEYS[4], 'all')
return 0
`);

export function subscriptionMatches(s: Subscription, e: BatonEvent): boolean {
  if (!s.enabled) return false;
  if (s.events && !s.events.includes(e.event)) return false;
  return s.paths.some((g) => matchesGlob(g, e.path) || (e.from !== undefined && matchesGlob(g, e.from)));
}

/**
 * Webhook subscriptions in one Redis hash, shared by every replica. Once `start`ed, the whole
 * set is held in the process (every write fans out over it and every delivery looks one up)
 * and dropped on the pub/sub message any change publishes, or whenever that subscription is not
 * known to be live (see InvalidatedCache).
 */
export class SubscriptionStore {
  private readonly cache = new InvalidatedCache<Map<string, Subscription>>({ channel: CHANGED, ttlMs: 60_000, maxEntries: 1 });

  constructor(private readonly redis: Redis) {}

  async start(): Promise<void> {
    await this.cache.start(this.redis);
  }

  async stop(): Promise<void> {
    await this.cache.stop();
  }

  private async snapshot(): Promise<Map<string, Subscription>> {
    const all = await this.cache.get('all', async () => {
      const raw = await this.redis.hgetall(HASH);
      return new Map(Object.entries(raw).map(([id, r]) => [id, JSON.parse(r) as Subscription]));
    });
    return all!;
  }

  /** Write one subscription (or delete it, with null) and tell every replica. */
  private async put(id: string, sub: Subscription | null): Promise<void> {
    this.cache.invalidate('all');
    const m = this.redis.multi();
    if (sub) m.hset(HASH, id, JSON.stringify(sub));
    else m.hdel(HASH, id);
    // The set is cached as one entry, so the message names that entry, not the subscription.
    if (!sub) m.del(backlogKey(id), heldKey(id));
    const replies = await m.publish(CHANGED, 'all').exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed) throw failed?.[0] ?? new Error('subscription change was not applied');
    this.cache.invalidate('all');
  }

  async create(input: { url: string; paths: string[]; events?: EventType[]; owner: string; id?: string; secret?: string; pausedAt?: string | null }): Promise<Subscription> {
    const sub: Subscription = {
      id: input.id ?? `sub_${randomBytes(8).toString('hex')}`,
      url: input.url,
      paths: input.paths,
      events: input.events && input.events.length > 0 ? input.events : null,
      secret: input.secret ?? newSecret(),
      enabled: true,
      disabledReason: null,
      createdAt: new Date().toISOString(),
      owner: input.owner,
      ...(input.pausedAt ? { paused: true, pausedAt: input.pausedAt } : {}),
    };
    await this.put(sub.id, sub);
    return sub;
  }

  async all(): Promise<Subscription[]> {
    return [...(await this.snapshot()).values()].map((x) => ({ ...x })).sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
  }

  async get(id: string): Promise<Subscription | null> {
    const s = (await this.snapshot()).get(id);
    return s ? { ...s } : null;
  }

  async require(id: string): Promise<Subscription> {
    const s = await this.get(id);
    if (!s) throw new BatonError('not_found', `no subscription ${id}`);
    return s;
  }

  async remove(id: string): Promise<void> {
    await this.put(id, null);
  }

  async enable(id: string): Promise<void> {
    const s = await this.get(id);
    if (!s || s.enabled) return;
    await this.put(id, { ...s, enabled: true, disabledReason: null });
  }

  async pause(id: string): Promise<Subscription> {
    const s = await this.require(id);
    if (s.paused) return s;
    const paused = { ...s, paused: true, pausedAt: new Date().toISOString() };
    await this.put(id, paused);
    return paused;
  }

  /**
   * Called by the worker before each POST: true when the event was held for a paused subscription.
   * `releasedFrom` is the job's mark when resume queued it.
   */
  async hold(id: string, event: BatonEvent, releasedFrom?: string): Promise<boolean> {
    const held = await HOLD.run(this.redis, [HASH, backlogKey(id), heldKey(id)], [id, event.id, Date.parse(event.time), JSON.stringify(event), releasedFrom ?? '']);
    return held === 1;
  }

  async backlogSize(id: string): Promise<number> {
    return this.redis.zcard(backlogKey(id));
  }

  /** The oldest held events, in the order they were written, with the ids `release` takes. */
  async backlog(id: string, limit: number): Promise<{ ids: string[]; events: BatonEvent[] }> {
    const ids = await this.redis.zrange(backlogKey(id), 0, limit - 1);
    if (ids.length === 0) return { ids, events: [] };
    const raw = await this.redis.hmget(heldKey(id), ...ids);
    return { ids, events: raw.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as BatonEvent) };
  }

  /**
   * Drop events that are queued again; when none are left, clear the pause if the record is still
   * `current`. Returns how many are left (0: resumed), or -1 when the record changed meanwhile.
   */
  async release(current: Subscription, eventIds: string[]): Promise<number> {
    this.cache.invalidate('all');
    const resumed: Subscription = { ...current, paused: false, pausedAt: null };
    const left = await RELEASE.run(this.redis, [HASH, backlogKey(current.id), heldKey(current.id), CHANGED], [current.id, JSON.stringify(current), JSON.stringify(resumed), ...eventIds]);
    this.cache.invalidate('all');
    return Number(left);
  }

  async disable(id: string, reason: string): Promise<void> {
    const s = await this.get(id);
    if (!s) return;
    await this.put(id, { ...s, enabled: false, disabledReason: reason });
  }

  /**
   * Make the subscriptions declared in a workspace's YAML exist, keyed by their content so a
   * reload does not duplicate them; drop declared ones that left the file.
   */
  async syncDeclared(workspace: string, declared: Array<{ url: string; paths: string[]; events?: string[]; secret?: string }>): Promise<void> {
    const owner = `yaml:${workspace}`;
    const wanted = new Map(
      declared.map((d) => {
        const id = `sub_yaml_${createHash('sha256').update(JSON.stringify([workspace, d.url, d.paths, d.events ?? []])).digest('hex').slice(0, 16)}`;
        return [id, d] as const;
      }),
    );
    for (const s of await this.all()) {
      if (s.owner === owner && !wanted.has(s.id)) await this.remove(s.id);
    }
    for (const [id, d] of wanted) {
      const existing = await this.get(id);
      if (existing && (!d.secret || existing.secret === d.secret)) continue;
      // A new secret keeps the pause, or the events held in its backlog would never be released.
      await this.create({ id, url: d.url, paths: d.paths, events: d.events as EventType[] | undefined, owner, secret: d.secret ?? existing?.secret, pausedAt: existing?.paused ? existing.pausedAt : null });
    }
  }
}
