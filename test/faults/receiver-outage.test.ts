import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client } from '../helpers/http.js';
import { Receiver, sleep } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;
let rcv: Receiver;

beforeAll(async () => {
  redis = await startRedis();
  // Ten retries half a second apart: the outage below (~3 s) sits well inside the schedule.
  baton = await startBaton({ redisUrl: redis.url, env: { BATON_WEBHOOK_RETRY_SCHEDULE: '0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5', BATON_WEBHOOK_TIMEOUT_MS: '5000' } });
  rcv = await Receiver.start();
});
afterAll(async () => {
  await rcv?.close();
  await teardown(baton, redis);
});

describe('a webhook receiver down, then back', () => {
  it('every acknowledged write is delivered once by webhook-id: before, during and after the outage', async () => {
    const admin = client(baton.url, baton.adminToken);
    const sub = await admin.post('/v1/subscriptions', { url: rcv.url(), paths: ['/demo/outbox/outage/**'] });
    expect(sub.status, sub.text).toBe(201);
    rcv.secret = sub.json.secret;

    let acknowledged = 0;
    let fiveXX = 0;
    const write = async (phase: string, n: number) => {
      await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const r = await admin.put(`/demo/outbox/outage/${phase}-${i}.txt`, `${phase} ${i}`);
          if (r.status >= 500) fiveXX++;
          if (r.status === 201) acknowledged++;
        }),
      );
    };

    await write('before', 5);
    await rcv.waitFor((r) => r.delivered.length >= 5, 10_000, 'the deliveries before the outage');
    await rcv.down();
    await write('during', 10);
    await sleep(3_000);
    await rcv.up();
    // Writes keep coming while the backlog drains.
    await write('after', 5);

    // The acknowledged writes, by their events: webhook-id is the event id.
    const events = await admin.call('GET', '/v1/events?after=0&limit=1000&path=/demo/outbox/outage/**');
    expect(events.status).toBe(200);
    const ids = new Set<string>(events.json.events.map((e: { id: string }) => e.id));
    expect(ids.size).toBe(acknowledged);
    await rcv.waitFor((r) => [...ids].every((id) => r.delivered.some((d) => d.id === id)), 20_000, 'every event after the outage');
    await sleep(1_000); // room for a late duplicate to show up

    const times = new Map<string, number>();
    for (const d of rcv.delivered) times.set(d.id, (times.get(d.id) ?? 0) + 1);
    const lost = [...ids].filter((id) => !times.has(id)).length;
    const duplicated = [...times.values()].reduce((n, t) => n + (t - 1), 0);
    const unknown = [...times.keys()].filter((id) => !ids.has(id)).length;
    console.log(`receiver outage: acknowledged ${acknowledged}, delivered ${times.size}, lost ${lost}, duplicated ${duplicated}, 5xx ${fiveXX}, signature failures ${rcv.signatureFailures}`);
    expect(acknowledged).toBe(20);
    expect(fiveXX).toBe(0);
    expect(lost).toBe(0);
    expect(unknown).toBe(0);
    expect(duplicated).toBe(0);
    expect(rcv.signatureFailures).toBe(0);
    // The outage was real: deliveries of the writes made while it lasted failed first.
    const failed = await admin.call('GET', `/v1/subscriptions/${sub.json.id}/deliveries?status=failed`);
    expect(failed.json.deliveries.length).toBeGreaterThan(0);
  });
});
