import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { eventually, Receiver } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { baton as cli } from '../cli/run.js';

let redis: TestRedis;
let baton: TestBaton;
let receiver: Receiver;
let admin: ReturnType<typeof client>;
const api = (path: string) => admin.call('GET', path);

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  admin = client(baton.url, baton.adminToken);
  receiver = await Receiver.start();
}, 30_000);

afterAll(async () => {
  await receiver?.close();
  await teardown(baton, redis);
});

describe('pausing a webhook subscription', () => {
  it('holds every event while paused in write order, sends nothing, and delivers each once on resume', async () => {
    const sub = await admin.post('/v1/subscriptions', { url: receiver.url(), paths: ['/demo/outbox/**'] });
    expect(sub.status, sub.text).toBe(201);
    receiver.secret = sub.json.secret;
    const id = sub.json.id as string;

    const paused = await admin.post(`/v1/subscriptions/${id}/pause`, {});
    expect(paused.status, paused.text).toBe(200);
    expect(paused.json).toMatchObject({ id, paused: true, backlog: 0 });
    expect(Date.parse(paused.json.pausedAt)).not.toBeNaN();

    const written: string[] = [];
    for (const n of [1, 2, 3]) {
      const put = await admin.put(`/demo/outbox/p${n}.txt`, `n=${n}`);
      expect(put.status).toBe(201);
    }
    // Every event reaches the backlog (the worker held it rather than posting it) in write order.
    const held = await eventually(
      async () => {
        const d = await api(`/v1/subscriptions/${id}/deliveries`);
        const h = (d.json.deliveries as Array<{ eventId: string; status: string; error?: string }>).filter((x) => x.error?.startsWith('held'));
        return h.length === 3 ? h : null;
      },
      10_000,
      'three held deliveries',
    );
    expect(held.every((h) => h.status === 'pending')).toBe(true);
    const events = (await api('/v1/events?after=0&path=/demo/outbox/p*.txt')).json.events as Array<{ id: string; path: string }>;
    written.push(...events.map((e) => e.id));
    expect(held.map((h) => h.eventId)).toEqual(written);
    expect((await api(`/v1/subscriptions/${id}`)).json).toMatchObject({ paused: true, backlog: 3 });
    expect(receiver.requests).toHaveLength(0);

    // Resumed from the CLI, as an operator would.
    const resumed = await cli(['subs', 'resume', id, '--json'], { url: baton.url, key: baton.adminToken });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.json()).toMatchObject({ id, paused: false, pausedAt: null, released: 3, backlog: 0 });
    await receiver.waitFor((r) => r.requests.length >= 3, 10_000, 'the held events');

    // Live again: a new write arrives, and by then nothing held has come twice.
    await admin.put('/demo/outbox/p4.txt', 'n=4');
    await receiver.waitFor((r) => r.requests.some((q) => q.body.path === '/demo/outbox/p4.txt'), 10_000, 'a live delivery');
    const ids = receiver.requests.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(4);
    expect(ids.slice(0, 3).sort()).toEqual([...written].sort());
    expect(receiver.requests.every((r) => r.verified)).toBe(true);

    const audit = (await api(`/v1/audit?action=subscription.pause`)).json.entries as Array<{ path: string; outcome: string }>;
    expect(audit).toContainEqual(expect.objectContaining({ path: `sub:${id}`, outcome: 'allowed' }));
    const audit2 = (await api(`/v1/audit?action=subscription.resume`)).json.entries as Array<{ path: string; actor: string }>;
    expect(audit2).toContainEqual(expect.objectContaining({ path: `sub:${id}` }));
  });

  it('a delivery waiting for its retry when the pause comes is held too, and sent once on resume', async () => {
    const rcv = await Receiver.start();
    try {
      // The first attempt fails and asks for a retry in 1 s; the pause lands before that retry.
      rcv.responder = ({ nth }) => (nth === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 });
      const sub = await admin.post('/v1/subscriptions', { url: rcv.url(), paths: ['/demo/inbox/retry-*'] });
      rcv.secret = sub.json.secret;
      const id = sub.json.id as string;
      await admin.put('/demo/inbox/retry-1.txt', 'r');
      await rcv.waitFor((r) => r.requests.length === 1, 10_000, 'the failed first attempt');
      expect((await admin.post(`/v1/subscriptions/${id}/pause`, {})).status).toBe(200);
      await eventually(async () => ((await api(`/v1/subscriptions/${id}`)).json.backlog === 1 ? true : null), 10_000, 'the retry held');
      expect(rcv.requests).toHaveLength(1);
      const resumed = await admin.post(`/v1/subscriptions/${id}/resume`, {});
      expect(resumed.json).toMatchObject({ released: 1, paused: false });
      await rcv.waitFor((r) => r.requests.length === 2, 10_000, 'the held retry');
      expect(rcv.requests.map((r) => r.status)).toEqual([503, 200]);
      expect(rcv.requests[0]!.id).toBe(rcv.requests[1]!.id);
    } finally {
      await rcv.close();
    }
  });

  it('another key cannot pause a subscription it does not own, and the refusal is audited', async () => {
    const sub = await admin.post('/v1/subscriptions', { url: receiver.url('/other'), paths: ['/demo/events/**'] });
    const other = await createKey(baton.url, baton.adminToken, { agent: 'stranger', grants: ['subscribe:/demo/**'] });
    const res = await client(baton.url, other.key).post(`/v1/subscriptions/${sub.json.id}/pause`, {});
    expect(res.status).toBe(404);
    await eventually(async () => {
      const { entries } = (await api('/v1/audit?action=subscription.pause&actor=agent:stranger')).json as { entries: Array<{ outcome: string; code: string }> };
      return entries.some((e) => e.outcome === 'denied' && e.code === 'not_found');
    }, 5_000, 'the refused pause in the audit log');
    expect((await api(`/v1/subscriptions/${sub.json.id}`)).json.paused).toBe(false);
    const cliRes = await cli(['subs', 'pause', 'sub_nope'], { url: baton.url, key: baton.adminToken });
    expect(cliRes.code).not.toBe(0);
    expect(cliRes.stderr).toContain('sub_nope');
  });
});
