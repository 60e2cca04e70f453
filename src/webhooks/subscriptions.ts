import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BatonError } from '../core/errors.js';
import { InvalidatedCache } from '../core/invalidated-cache.js';
import { matchesGlob } from '../core/glob.js';
import type { BatonEvent, EventType } from '../events/event.js';
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
  /** Who made it: a key id, `admin`, or `yaml:<workspace>` for declared ones. */
  owner: string;
}

export type PublicSubscription = Omit<Subscription, 'secret' | 'owner'>;

const HASH = 'baton:subs';
/** Every change to the hash is published here, in the same MULTI as the change. */
const CHANGED = 'baton:subs:changed';

export function publicView(s: Subscription): PublicSubscription {
  const { secret: _secret, owner: _owner, ...rest } = s;
  return rest;
}

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
    const replies = await m.publish(CHANGED, 'all').exec();
    const failed = replies?.find(([err]) => err);
    if (!replies || failed) throw failed?.[0] ?? new Error('subscription change was not applied');
    this.cache.invalidate('all');
  }

  async create(input: { url: string; paths: string[]; events?: EventType[]; owner: string; id?: string; secret?: string }): Promise<Subscription> {
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
      await this.create({ id, url: d.url, paths: d.paths, events: d.events as EventType[] | undefined, owner, secret: d.secret ?? existing?.secret });
    }
  }
}
