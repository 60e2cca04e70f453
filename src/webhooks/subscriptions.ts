import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BatonError } from '../core/errors.js';
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

export function publicView(s: Subscription): PublicSubscription {
  const { secret: _secret, owner: _owner, ...rest } = s;
  return rest;
}

export function subscriptionMatches(s: Subscription, e: BatonEvent): boolean {
  if (!s.enabled) return false;
  if (s.events && !s.events.includes(e.event)) return false;
  return s.paths.some((g) => matchesGlob(g, e.path) || (e.from !== undefined && matchesGlob(g, e.from)));
}

/** Webhook subscriptions in one Redis hash, shared by every replica. */
export class SubscriptionStore {
  constructor(private readonly redis: Redis) {}

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
    await this.redis.hset(HASH, sub.id, JSON.stringify(sub));
    return sub;
  }

  async all(): Promise<Subscription[]> {
    const raw = await this.redis.hvals(HASH);
    return raw.map((r) => JSON.parse(r) as Subscription).sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
  }

  async get(id: string): Promise<Subscription | null> {
    const raw = await this.redis.hget(HASH, id);
    return raw ? (JSON.parse(raw) as Subscription) : null;
  }

  async require(id: string): Promise<Subscription> {
    const s = await this.get(id);
    if (!s) throw new BatonError('not_found', `no subscription ${id}`);
    return s;
  }

  async remove(id: string): Promise<void> {
    await this.redis.hdel(HASH, id);
  }

  async enable(id: string): Promise<void> {
    const s = await this.get(id);
    if (!s || s.enabled) return;
    await this.redis.hset(HASH, id, JSON.stringify({ ...s, enabled: true, disabledReason: null }));
  }

  async disable(id: string, reason: string): Promise<void> {
    const s = await this.get(id);
    if (!s) return;
    await this.redis.hset(HASH, id, JSON.stringify({ ...s, enabled: false, disabledReason: reason }));
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
