import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, removeDir, startBaton, type TestBaton } from '../helpers/baton.js';
import { allEvents, type Ev } from '../helpers/events.js';
import { client, createKey } from '../helpers/http.js';
import { eventually, Receiver, sleep } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

type Api = ReturnType<typeof client>;

interface Instance {
  redis: TestRedis;
  baton: TestBaton;
  admin: Api;
}

const receivers: Receiver[] = [];
async function receiver(secret?: string): Promise<Receiver> {
  const r = await Receiver.start(secret);
  receivers.push(r);
  return r;
}

async function instance(env: Record<string, string>, extraYaml = ''): Promise<Instance> {
  const redis = await startRedis();
  const demo = readFileSync(join(REPO, 'workspaces', 'demo.yaml'), 'utf8') + extraYaml;
  const baton = await startBaton({ redisUrl: redis.url, env, workspaces: { 'demo.yaml': demo } });
  return { redis, baton, admin: client(baton.url, baton.adminToken) };
}

async function closeInstance(i: Instance | undefined): Promise<void> {
  if (!i) return;
  await i.baton.stop();
  await i.redis.stop();
  removeDir(i.baton.dataDir);
  removeDir(i.baton.workspacesDir);
}

/** Subscribe `rcv` and teach it the secret; returns the subscription id. */
async function subscribe(api: Api, rcv: Receiver, paths: string[], events?: string[], urlPath?: string): Promise<string> {
  const r = await api.post('/v1/subscriptions', { url: rcv.url(urlPath), paths, ...(events ? { events } : {}) });
  expect(r.status, r.text).toBe(201);
  expect(r.json.id).toMatch(/^\S+$/);
  expect(r.json.secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
  rcv.secret = r.json.secret;
  return r.json.id;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function deliveries(api: Api, subId: string, status?: string): Promise<any[]> {
  const r = await api.call('GET', `/v1/subscriptions/${subId}/deliveries${status ? `?status=${status}` : ''}`);
  expect(r.status, r.text).toBe(200);
  return r.json.deliveries;
}

async function put(api: Api, path: string, body = path): Promise<{ etag: string }> {
  const r = await api.put(path, body);
  expect([200, 201], r.text).toContain(r.status);
  return r.json;
}

/** The event id of the last event at `path`, read from the log. */
async function eventIdOf(api: Api, path: string): Promise<string> {
  const evs = await allEvents(api, path);
  expect(evs.length, `events of ${path}`).toBeGreaterThan(0);
  return evs.at(-1)!.id;
}

let fast: Instance; // retry schedule 0.2 s, 0.2 s: three attempts
let slow: Instance; // retry schedule 8 × 1 s, plus a declared subscription
let yamlRcv: Receiver;
const yamlSecret = `whsec_${randomBytes(32).toString('base64')}`;

beforeAll(async () => {
  yamlRcv = await receiver(yamlSecret);
  const declared = `subscriptions:\n  - {url: "${yamlRcv.url('/declared')}", paths: [/demo/inbox/**], events: [file.created], secret: "${yamlSecret}"}\n`;
  [fast, slow] = await Promise.all([
    instance({ BATON_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2', BATON_WEBHOOK_TIMEOUT_MS: '3000' }),
    instance({ BATON_WEBHOOK_RETRY_SCHEDULE: '1,1,1,1,1,1,1,1', BATON_WEBHOOK_TIMEOUT_MS: '3000' }, declared),
  ]);
});
afterAll(async () => {
  for (const r of receivers) await r.close();
  await closeInstance(fast);
  await closeInstance(slow);
});

describe('subscriptions', () => {
  it('create returns {id, secret whsec_…}; GET shows it without the secret; DELETE removes it', async () => {
    const rcv = await receiver();
    const r = await fast.admin.post('/v1/subscriptions', { url: rcv.url(), paths: ['/demo/outbox/**'], events: ['file.created'] });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({ url: rcv.url(), paths: ['/demo/outbox/**'], events: ['file.created'], enabled: true });
    expect(r.json.secret).toMatch(/^whsec_/);
    // a Standard Webhooks secret: base64 of at least 24 bytes
    expect(Buffer.from(r.json.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    const g = await fast.admin.call('GET', `/v1/subscriptions/${r.json.id}`);
    expect(g.status).toBe(200);
    expect(g.json).toMatchObject({ id: r.json.id, url: rcv.url(), enabled: true });
    expect(g.text).not.toContain(r.json.secret);
    const l = await fast.admin.call('GET', '/v1/subscriptions');
    expect(l.json.subscriptions.map((s: Ev) => s.id)).toContain(r.json.id);
    expect(l.text).not.toContain(r.json.secret);
    const d = await fast.admin.call('DELETE', `/v1/subscriptions/${r.json.id}`);
    expect(d.status).toBeLessThan(300);
    expect((await fast.admin.call('GET', `/v1/subscriptions/${r.json.id}`)).status).toBe(404);
    await put(fast.admin, '/demo/outbox/after-delete.txt');
    await sleep(800);
    expect(rcv.requests).toHaveLength(0);
  });

  it('subscribe needs the subscribe grant on the paths (403 without)', async () => {
    const rcv = await receiver();
    const rw = client(fast.baton.url, (await createKey(fast.baton.url, fast.baton.adminToken, { agent: 'rw', grants: ['read:/demo/**', 'write:/demo/**'] })).key);
    const denied = await rw.post('/v1/subscriptions', { url: rcv.url(), paths: ['/demo/inbox/**'] });
    expect(denied.status).toBe(403);
    expect(denied.json.error.code).toBe('forbidden');
    const sub = client(fast.baton.url, (await createKey(fast.baton.url, fast.baton.adminToken, { agent: 'sub', grants: ['read:/demo/inbox/**', 'subscribe:/demo/inbox/**'] })).key);
    const wide = await sub.post('/v1/subscriptions', { url: rcv.url(), paths: ['/demo/**'] });
    expect(wide.status).toBe(403);
    const outside = await sub.post('/v1/subscriptions', { url: rcv.url(), paths: ['/demo/outbox/**'] });
    expect(outside.status).toBe(403);
    const ok = await sub.post('/v1/subscriptions', { url: rcv.url(), paths: ['/demo/inbox/grant/**'] });
    expect(ok.status, ok.text).toBe(201);
    // the other key does not see it
    expect((await rw.call('GET', `/v1/subscriptions/${ok.json.id}`)).status).toBe(404);
    rcv.secret = ok.json.secret;
    await put(fast.admin, '/demo/inbox/grant/x.txt');
    await rcv.waitFor((r) => r.delivered.length === 1, 10_000, 'the granted delivery');
    expect(rcv.signatureFailures).toBe(0);
  });
});

describe('delivery', () => {
  it('every delivery verifies with standardwebhooks; webhook-id is the event id; the body is the event', async () => {
    const rcv = await receiver();
    await subscribe(fast.admin, rcv, ['/demo/events/sig/**']);
    const paths = Array.from({ length: 10 }, (_, i) => `/demo/events/sig/f${i}.json`);
    for (const p of paths) await put(fast.admin, p, JSON.stringify({ p, note: 'ünïcödé ✓' }));
    await rcv.waitFor((r) => r.delivered.length >= 10, 15_000, '10 deliveries');
    expect(rcv.signatureFailures).toBe(0);
    expect(rcv.requests.every((q) => q.verified)).toBe(true);
    const logged = await allEvents(fast.admin, '/demo/events/sig/**');
    expect(logged).toHaveLength(10);
    for (const e of logged) {
      const got = rcv.delivered.filter((d) => d.id === e.id);
      expect(got.length, `deliveries of ${e.id}`).toBeGreaterThanOrEqual(1);
      expect(got[0]!.body).toMatchObject({ id: e.id, event: 'file.created', workspaceId: 'ws_demo', path: e.path, etag: e.etag, seq: e.seq, actor: 'admin', time: e.time });
      expect(Math.abs(Number(got[0]!.timestamp) * 1000 - got[0]!.at)).toBeLessThan(60_000);
    }
    expect(new Set(rcv.delivered.map((d) => d.body.path))).toEqual(new Set(paths));
  });

  it('a subscription on /demo/inbox/** with events [file.created] gets only those', async () => {
    const only = await receiver();
    const all = await receiver();
    await subscribe(fast.admin, only, ['/demo/inbox/filter/**'], ['file.created']);
    await subscribe(fast.admin, all, ['/demo/**']);
    await put(fast.admin, '/demo/inbox/filter/a.txt', 'one');
    await put(fast.admin, '/demo/inbox/filter/a.txt', 'two'); // updated
    await put(fast.admin, '/demo/outbox/filter/b.txt'); // other folder
    await put(fast.admin, '/demo/inbox/filter-not/c.txt'); // sibling, outside the glob
    await fast.admin.post('/v1/move', { from: '/demo/inbox/filter/a.txt', to: '/demo/inbox/filter/moved.txt' });
    expect((await fast.admin.del('/demo/inbox/filter/moved.txt')).status).toBeLessThan(300);
    await put(fast.admin, '/demo/inbox/filter/d.txt');
    await put(fast.admin, '/demo/outbox/filter/marker.txt');
    await all.waitFor((r) => r.deliveredFor((p) => p.endsWith('/marker.txt')).length > 0, 10_000, 'the marker');
    await sleep(500);
    // delivery order across events is not promised; compare as sorted lists
    expect(only.delivered.map((d) => [d.body.event, d.body.path]).sort()).toEqual([
      ['file.created', '/demo/inbox/filter/a.txt'],
      ['file.created', '/demo/inbox/filter/d.txt'],
    ]);
    expect(only.signatureFailures + all.signatureFailures).toBe(0);
  });

  it('500 twice then 200: delivered on the third attempt, same webhook-id each time, attempts listed', async () => {
    const rcv = await receiver();
    rcv.failFirst(2, 500);
    const subId = await subscribe(fast.admin, rcv, ['/demo/inbox/retry/**']);
    await put(fast.admin, '/demo/inbox/retry/r.txt');
    await rcv.waitFor((r) => r.delivered.length === 1, 10_000, 'the third attempt');
    expect(rcv.requests.map((q) => q.status)).toEqual([500, 500, 200]);
    expect(new Set(rcv.requests.map((q) => q.id)).size).toBe(1);
    const evId = await eventIdOf(fast.admin, '/demo/inbox/retry/r.txt');
    expect(rcv.requests[0]!.id).toBe(evId);
    expect(rcv.signatureFailures).toBe(0);
    const list = await eventually(async () => {
      const l = (await deliveries(fast.admin, subId)).filter((a) => a.eventId === evId);
      return l.length >= 3 ? l : null;
    }, 5000, 'three attempts in /deliveries');
    const byAttempt = [...list].sort((a, b) => a.attempt - b.attempt);
    expect(byAttempt.map((a) => [a.attempt, a.status, a.responseStatus])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 500],
      [3, 'delivered', 200],
    ]);
    for (const a of byAttempt.slice(0, 2)) {
      expect(a.nextAttemptAt).toEqual(expect.any(String));
      expect(Date.parse(a.nextAttemptAt)).toBeGreaterThanOrEqual(Date.parse(a.at));
    }
    expect(Number.isNaN(Date.parse(byAttempt[2].at))).toBe(false);
    const failed = await deliveries(fast.admin, subId, 'failed');
    expect(failed.length).toBe(2);
    expect(failed.every((a) => a.status === 'failed')).toBe(true);
  });

  it('a burst of deliveries is listed in /deliveries whole, newest first', async () => {
    const rcv = await receiver();
    const subId = await subscribe(fast.admin, rcv, ['/demo/inbox/burst/**']);
    await Promise.all(Array.from({ length: 20 }, (_, i) => put(fast.admin, `/demo/inbox/burst/b${i}.txt`)));
    await rcv.waitFor((r) => r.delivered.length === 20, 10_000, '20 deliveries');
    // A job still finishing shows as its next attempt, pending, for a moment.
    const list = await eventually(async () => {
      const l = await deliveries(fast.admin, subId);
      return l.length >= 20 && l.every((a) => a.status !== 'pending') ? l : null;
    }, 5000, '20 attempts in /deliveries');
    expect(list.length).toBe(20);
    expect(new Set(list.map((a) => a.eventId)).size).toBe(20);
    expect(list.every((a) => a.status === 'delivered' && a.attempt === 1)).toBe(true);
    const times = list.map((a) => Date.parse(a.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('429 with Retry-After: the next attempt does not come before it', async () => {
    const rcv = await receiver();
    rcv.failFirst(1, 429, { 'retry-after': '2' });
    const subId = await subscribe(fast.admin, rcv, ['/demo/inbox/ra/**']);
    await put(fast.admin, '/demo/inbox/ra/x.txt');
    await rcv.waitFor((r) => r.requests.length === 1, 10_000, 'the first attempt');
    // between the 429 and the retry, the delivery is listed as pending, with when it will be tried
    const evId = await eventIdOf(fast.admin, '/demo/inbox/ra/x.txt');
    const pending = await eventually(async () => (await deliveries(fast.admin, subId, 'pending')).find((a) => a.eventId === evId && a.nextAttemptAt) ?? null, 1500, 'a pending retry');
    expect(pending).toMatchObject({ eventId: evId, attempt: 2, status: 'pending', responseStatus: null });
    expect(Date.parse(pending.nextAttemptAt)).toBeGreaterThan(Date.now());
    expect((await deliveries(fast.admin, subId))[0]).toMatchObject({ eventId: evId, status: 'pending' });
    await rcv.waitFor((r) => r.delivered.length === 1, 10_000, 'the delivery after Retry-After');
    expect(rcv.requests.map((q) => q.status)).toEqual([429, 200]);
    const gap = rcv.requests[1]!.at - rcv.requests[0]!.at;
    expect(gap, `second attempt ${gap} ms after the 429`).toBeGreaterThanOrEqual(1900);
    expect(gap).toBeLessThan(6000);
    const first = (await deliveries(fast.admin, subId)).find((a) => a.attempt === 1);
    expect(first).toMatchObject({ status: 'failed', responseStatus: 429 });
    expect(await eventually(async () => ((await deliveries(fast.admin, subId, 'pending')).length === 0 ? true : null), 3000, 'no pending once delivered')).toBe(true);
    expect(Date.parse(first.nextAttemptAt) - Date.parse(first.at)).toBeGreaterThanOrEqual(1500);
  });

  it('410 disables the subscription: GET shows enabled:false and later events are not delivered', async () => {
    const gone = await receiver();
    const all = await receiver();
    gone.always(410);
    const subId = await subscribe(fast.admin, gone, ['/demo/outbox/gone/**']);
    await subscribe(fast.admin, all, ['/demo/outbox/**']);
    await put(fast.admin, '/demo/outbox/gone/1.txt');
    await gone.waitFor((r) => r.requests.length >= 1, 10_000, 'the 410');
    const sub = await eventually(async () => {
      const g = await fast.admin.call('GET', `/v1/subscriptions/${subId}`);
      return g.json.enabled === false ? g.json : null;
    }, 5000, 'enabled:false');
    expect(sub.disabledReason).toEqual(expect.any(String));
    await sleep(600); // no retry of a 410
    expect(gone.requests).toHaveLength(1);
    gone.always(200);
    await put(fast.admin, '/demo/outbox/gone/2.txt');
    await put(fast.admin, '/demo/outbox/gone-marker.txt');
    await all.waitFor((r) => r.deliveredFor((p) => p.endsWith('gone-marker.txt')).length > 0, 10_000, 'the marker');
    await sleep(800);
    expect(gone.requests).toHaveLength(1);
  });

  it('an answer slower than BATON_WEBHOOK_TIMEOUT_MS is a failed attempt and is retried', async () => {
    const rcv = await receiver();
    rcv.responder = ({ nth }) => (nth === 1 ? { status: 200, delayMs: 4000 } : { status: 200 });
    const subId = await subscribe(fast.admin, rcv, ['/demo/inbox/slow/**']);
    await put(fast.admin, '/demo/inbox/slow/s.txt');
    await rcv.waitFor((r) => r.requests.length >= 2, 12_000, 'the retry after a timeout');
    const evId = await eventIdOf(fast.admin, '/demo/inbox/slow/s.txt');
    const list = await eventually(async () => {
      const l = (await deliveries(fast.admin, subId)).filter((a) => a.eventId === evId);
      return l.some((a) => a.status === 'delivered') ? l : null;
    }, 8000, 'a delivered attempt');
    const first = list.find((a) => a.attempt === 1);
    expect(first).toMatchObject({ status: 'failed', responseStatus: null });
    expect(rcv.requests.every((q) => q.id === evId)).toBe(true);
  });

  it('dead letter after the last retry, then replay by eventIds once the receiver is fixed', async () => {
    const rcv = await receiver();
    rcv.always(500);
    const subId = await subscribe(fast.admin, rcv, ['/demo/inbox/dead/**']);
    await put(fast.admin, '/demo/inbox/dead/d.txt');
    const evId = await eventIdOf(fast.admin, '/demo/inbox/dead/d.txt');
    const dead = await eventually(async () => {
      const l = await deliveries(fast.admin, subId, 'dead');
      return l.find((a) => a.eventId === evId);
    }, 10_000, 'a dead delivery');
    expect(dead.nextAttemptAt ?? null).toBeNull();
    expect(rcv.requests).toHaveLength(3); // first attempt + the two retries of the schedule
    await sleep(700);
    expect(rcv.requests).toHaveLength(3); // nothing after dead
    rcv.always(200);
    const rp = await fast.admin.post(`/v1/subscriptions/${subId}/replay`, { eventIds: [evId] });
    expect(rp.status, rp.text).toBeLessThan(300);
    await rcv.waitFor((r) => r.delivered.length === 1, 10_000, 'the replayed delivery');
    expect(rcv.delivered[0]!.id).toBe(evId);
    expect(rcv.delivered[0]!.body.path).toBe('/demo/inbox/dead/d.txt');
    await eventually(async () => (await deliveries(fast.admin, subId)).some((a) => a.eventId === evId && a.status === 'delivered'), 5000, 'a delivered entry');
    expect(rcv.signatureFailures).toBe(0);
  });

  it('replay since a cursor delivers again exactly the matching events after it', async () => {
    const rcv = await receiver();
    const subId = await subscribe(fast.admin, rcv, ['/demo/outbox/replay/**']);
    await put(fast.admin, '/demo/outbox/replay/before.txt');
    await rcv.waitFor((r) => r.delivered.length === 1, 10_000, 'the first delivery');
    const c = await fast.admin.call('GET', `/v1/events?path=${encodeURIComponent('/demo/**')}`);
    const cursor = c.json.cursor as string;
    const after = ['/demo/outbox/replay/a1.txt', '/demo/outbox/replay/a2.txt', '/demo/outbox/replay/a3.txt'];
    for (const p of after) await put(fast.admin, p);
    await put(fast.admin, '/demo/inbox/replay-other.txt'); // not the subscription's
    await rcv.waitFor((r) => r.delivered.length === 4, 10_000, 'four deliveries');
    const originals = new Map(rcv.delivered.map((d) => [d.body.path, d.id]));
    const rp = await fast.admin.post(`/v1/subscriptions/${subId}/replay`, { since: cursor });
    expect(rp.status, rp.text).toBeLessThan(300);
    await rcv.waitFor((r) => r.delivered.length >= 7, 10_000, 'three replayed deliveries');
    await sleep(500);
    const again = rcv.delivered.slice(4);
    expect(again.map((d) => d.body.path).sort()).toEqual(after);
    for (const d of again) expect(d.id).toBe(originals.get(d.body.path));
    expect(rcv.signatureFailures).toBe(0);
  });
});

describe('URL policy', () => {
  it('a subscription to the metadata address 169.254.169.254 is refused or never delivered', async () => {
    const r = await fast.admin.post('/v1/subscriptions', { url: 'http://169.254.169.254/latest/meta-data/', paths: ['/demo/inbox/meta/**'] });
    if (r.status === 201) {
      await put(fast.admin, '/demo/inbox/meta/x.txt');
      const l = await eventually(async () => {
        const d = await deliveries(fast.admin, r.json.id);
        return d.length > 0 ? d : null;
      }, 10_000, 'a refused attempt');
      expect(l.every((a) => a.status !== 'delivered' && a.responseStatus === null)).toBe(true);
    } else {
      expect([400, 403]).toContain(r.status);
      expect(['forbidden', 'bad_request']).toContain(r.json.error.code);
    }
    // a link-local address spelled another way is the same address
    const hex = await fast.admin.post('/v1/subscriptions', { url: 'http://[::ffff:169.254.169.254]/', paths: ['/demo/inbox/meta/**'] });
    if (hex.status === 201) {
      await put(fast.admin, '/demo/inbox/meta/y.txt');
      const l = await eventually(async () => {
        const d = await deliveries(fast.admin, hex.json.id);
        return d.length > 0 ? d : null;
      }, 10_000, 'a refused attempt (IPv4-mapped)');
      expect(l.every((a) => a.status !== 'delivered' && a.responseStatus === null)).toBe(true);
    } else {
      expect([400, 403]).toContain(hex.status);
    }
  });

  it('a redirect is not followed (it could point anywhere)', async () => {
    const target = await receiver();
    const bouncer = await receiver();
    bouncer.always(307, { location: target.url('/stolen') });
    const subId = await subscribe(fast.admin, bouncer, ['/demo/inbox/redirect/**']);
    target.secret = bouncer.secret;
    await put(fast.admin, '/demo/inbox/redirect/x.txt');
    await bouncer.waitFor((r) => r.requests.length >= 3, 10_000, 'three attempts');
    await sleep(500);
    expect(target.requests).toHaveLength(0);
    const l = await deliveries(fast.admin, subId);
    expect(l.some((a) => a.status === 'delivered')).toBe(false);
  });

  it('BATON_WEBHOOK_DENY covering 127.0.0.0/8: no POST reaches a loopback receiver, API-made or declared', async () => {
    const apiRcv = await receiver();
    const declaredRcv = await receiver(`whsec_${randomBytes(32).toString('base64')}`);
    const declared = `subscriptions:\n  - {url: "${declaredRcv.url('/declared')}", paths: [/demo/**], secret: "${declaredRcv.secret}"}\n`;
    const deny = await instance({ BATON_WEBHOOK_DENY: '127.0.0.0/8,169.254.0.0/16', BATON_WEBHOOK_RETRY_SCHEDULE: '0.2,0.2' }, declared);
    try {
      const r = await deny.admin.post('/v1/subscriptions', { url: apiRcv.url(), paths: ['/demo/**'] });
      expect([201, 400, 403]).toContain(r.status);
      const viaName = await deny.admin.post('/v1/subscriptions', { url: `http://localhost:${apiRcv.port}/x`, paths: ['/demo/**'] });
      expect([201, 400, 403]).toContain(viaName.status);
      await put(deny.admin, '/demo/inbox/denied.txt');
      const subs = (await deny.admin.call('GET', '/v1/subscriptions')).json.subscriptions as Ev[];
      const yamlSub = subs.find((s) => s.url === declaredRcv.url('/declared'));
      expect(yamlSub, 'the declared subscription is listed').toBeTruthy();
      const evId = await eventIdOf(deny.admin, '/demo/inbox/denied.txt');
      const l = await eventually(async () => {
        const d = (await deliveries(deny.admin, yamlSub!.id)).filter((a) => a.eventId === evId);
        return d.some((a) => a.status === 'dead') ? d : null;
      }, 10_000, 'the refused delivery marked dead');
      expect(l.every((a) => a.status !== 'delivered' && a.responseStatus === null)).toBe(true);
      await sleep(800);
      expect(apiRcv.requests).toHaveLength(0);
      expect(declaredRcv.requests).toHaveLength(0);
    } finally {
      await closeInstance(deny);
    }
  });
});

describe('receiver outages (schedule 8 × 1 s)', () => {
  it('receiver down for ~3 s then back: every event is delivered', async () => {
    const rcv = await receiver();
    const subId = await subscribe(slow.admin, rcv, ['/demo/outbox/down/**']);
    await rcv.down();
    const paths = Array.from({ length: 8 }, (_, i) => `/demo/outbox/down/f${i}.txt`);
    for (const p of paths) await put(slow.admin, p);
    await sleep(3000);
    const during = await deliveries(slow.admin, subId, 'failed');
    expect(during.length, 'failed attempts while down').toBeGreaterThan(0);
    expect(during.every((a) => a.responseStatus === null)).toBe(true);
    await rcv.up();
    await rcv.waitFor((r) => new Set(r.delivered.map((d) => d.body.path)).size === paths.length, 15_000, 'all eight after the outage');
    expect(rcv.signatureFailures).toBe(0);
    expect(new Set(rcv.delivered.map((d) => d.body.path))).toEqual(new Set(paths));
  });

  it('subscriptions declared in workspace YAML are delivered, signed with the declared secret', async () => {
    await put(slow.admin, '/demo/inbox/yaml/a.txt', 'one');
    await put(slow.admin, '/demo/inbox/yaml/a.txt', 'two'); // updated: not in events [file.created]
    await put(slow.admin, '/demo/outbox/yaml/b.txt'); // outside the paths
    await put(slow.admin, '/demo/inbox/yaml/c.txt');
    await yamlRcv.waitFor((r) => r.deliveredFor((p) => p.endsWith('/c.txt')).length > 0, 10_000, 'the declared delivery');
    await sleep(500);
    expect(yamlRcv.signatureFailures).toBe(0);
    expect(yamlRcv.delivered.map((d) => [d.body.event, d.body.path]).sort()).toEqual([
      ['file.created', '/demo/inbox/yaml/a.txt'],
      ['file.created', '/demo/inbox/yaml/c.txt'],
    ]);
    expect(yamlRcv.delivered.every((d) => d.urlPath === '/declared')).toBe(true);
  });
});
