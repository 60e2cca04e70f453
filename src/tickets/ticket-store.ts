import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.js';

export interface TicketState {
  token: number;
  attempt: number;
  leaseExpiresAt: number;
  state: 'pending' | 'in-progress' | 'done' | 'failed';
  holder: string;
}

const k = {
  token: 'baton:tickets:token',
  queues: 'baton:tickets:queues',
  pending: (q: string) => `baton:tq:${q}:pending`,
  leases: (q: string) => `baton:tq:${q}:leases`,
  ticket: (q: string, name: string) => `baton:tk:${q}:${name}`,
};

/**
 * Atomically pop the oldest pending ticket and lease it (and note the queue for the reaper): one
 * Redis script, one round trip, so of any number of claimants across any number of processes
 * exactly one gets each ticket. The fencing token is
 * one global counter: it only ever increases, whichever queue or replica issued it.
 */
const CLAIM = new LuaScript(`
redis.call('SADD', KEYS[4], ARGV[5])
for _ = 1, 50 do
  local name = redis.call('ZPOPMIN', KEYS[1])[1]
  if not name then return false end
  local tk = ARGV[3] .. name
  local cur = redis.call('HMGET', tk, 'state', 'leaseExpiresAt')
  -- A ticket re-queued from disk while another claimant still holds it is not claimable.
  if not (cur[1] == 'in-progress' and tonumber(cur[2] or '0') > tonumber(ARGV[4])) then
    local token = redis.call('INCR', KEYS[3])
    local attempt = redis.call('HINCRBY', tk, 'attempt', 1)
    redis.call('HSET', tk, 'token', token, 'leaseExpiresAt', ARGV[1], 'state', 'in-progress', 'holder', ARGV[2])
    redis.call('ZADD', KEYS[2], ARGV[1], name)
    return {name, token, attempt}
  end
end
return false
`);

/** Undo a claim, but only the claim holding this token: a later claimant's state is left alone. */
const FORGET = new LuaScript(`
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('HSET', KEYS[1], 'state', 'pending', 'leaseExpiresAt', 0)
  return 1
end
return 0
`);

/** Check a token and, if it is current and its lease live, apply one transition. */
const FENCED = new LuaScript(`
local t = redis.call('HMGET', KEYS[1], 'token', 'state', 'leaseExpiresAt')
if t[1] ~= ARGV[1] or t[2] ~= 'in-progress' or tonumber(t[3]) <= tonumber(ARGV[2]) then
  return {t[1] or '', t[2] or '', t[3] or ''}
end
if ARGV[3] == 'extend' then
  redis.call('HSET', KEYS[1], 'leaseExpiresAt', ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
else
  redis.call('HSET', KEYS[1], 'state', ARGV[3], 'leaseExpiresAt', 0)
  redis.call('ZREM', KEYS[2], ARGV[5])
end
return 1
`);

/** Take up to N expired leases; ZREM decides which reaper (of several processes) owns each. */
const REAP = new LuaScript(`
local names = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 50)
local out = {}
for _, name in ipairs(names) do
  if redis.call('ZREM', KEYS[1], name) == 1 then
    redis.call('HSET', ARGV[2] .. name, 'state', 'pending', 'leaseExpiresAt', 0)
    table.insert(out, name)
    table.insert(out, redis.call('HGET', ARGV[2] .. name, 'attempt') or '0')
    table.insert(out, redis.call('HGET', ARGV[2] .. name, 'holder') or '')
  end
end
return out
`);

export type FenceOutcome = { ok: true } | { ok: false; current: { token: string; state: string; leaseExpiresAt: string } };

/** Ticket state kept aside in Redis: never in the ticket file, and shared by every replica. */
export class TicketStore {
  constructor(private readonly redis: Redis) {}

  async addPending(queue: string, name: string, score = Date.now()): Promise<void> {
    await this.redis.zadd(k.pending(queue), 'NX', score, name);
  }

  async removePending(queue: string, name: string): Promise<void> {
    await this.redis.zrem(k.pending(queue), name);
  }

  async pendingCount(queue: string): Promise<number> {
    return this.redis.zcard(k.pending(queue));
  }

  async claim(queue: string, leaseMs: number, holder: string): Promise<{ name: string; token: number; attempt: number; leaseExpiresAt: number } | null> {
    const leaseExpiresAt = Date.now() + leaseMs;
    const r = (await CLAIM.run(this.redis, [k.pending(queue), k.leases(queue), k.token, k.queues], [String(leaseExpiresAt), holder, k.ticket(queue, ''), String(Date.now()), queue])) as
      | [string, number, number]
      | null;
    if (!r) return null;
    return { name: r[0], token: Number(r[1]), attempt: Number(r[2]), leaseExpiresAt };
  }

  /** Undo a claim whose file turned out to be gone: the ticket is not pending anymore. */
  async forget(queue: string, name: string, token: number): Promise<void> {
    await FORGET.run(this.redis, [k.ticket(queue, name), k.leases(queue)], [String(token), name]);
  }

  async fenced(queue: string, name: string, token: number, transition: 'extend' | 'done' | 'failed' | 'pending', newExpiry = 0): Promise<FenceOutcome> {
    const r = (await FENCED.run(this.redis, [k.ticket(queue, name), k.leases(queue)], [String(token), String(Date.now()), transition, String(newExpiry), name])) as
      | number
      | [string, string, string];
    if (r === 1) return { ok: true };
    const [t, state, lease] = r as [string, string, string];
    return { ok: false, current: { token: t, state, leaseExpiresAt: lease } };
  }

  async get(queue: string, name: string): Promise<TicketState | null> {
    const h = await this.redis.hgetall(k.ticket(queue, name));
    if (!h.token) return null;
    return {
      token: Number(h.token),
      attempt: Number(h.attempt ?? 0),
      leaseExpiresAt: Number(h.leaseExpiresAt ?? 0),
      state: (h.state ?? 'pending') as TicketState['state'],
      holder: h.holder ?? '',
    };
  }

  async queues(): Promise<string[]> {
    return this.redis.smembers(k.queues);
  }

  /** Expired leases taken back, each with the agent whose lease it was. */
  async reap(queue: string): Promise<Array<{ name: string; attempt: number; holder: string }>> {
    const r = (await REAP.run(this.redis, [k.leases(queue)], [String(Date.now()), k.ticket(queue, '')])) as string[];
    const out: Array<{ name: string; attempt: number; holder: string }> = [];
    for (let i = 0; i < r.length; i += 3) out.push({ name: r[i]!, attempt: Number(r[i + 1]), holder: r[i + 2]! });
    return out;
  }
}
