import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEventId, type BatonEvent } from '../../src/events/event.js';
import { SubscriptionStore } from '../../src/webhooks/subscriptions.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let conn: Redis;
let store: SubscriptionStore;

beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url);
  store = new SubscriptionStore(conn);
  await store.start();
});

afterAll(async () => {
  await store?.stop();
  conn?.disconnect();
  await redis?.stop();
});

function event(n: number): BatonEvent {
  return { id: newEventId(), event: 'file.created', workspaceId: 'ws_demo', workspace: 'demo', path: `/demo/inbox/${n}`, mimeType: null, size: 1, etag: 'e', version: 1, seq: n, actor: 'admin', time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString() };
}

// The interleavings a live test cannot force: a delivery that runs while resume is halfway through.
describe('holding and releasing the deliveries of a paused subscription (against Redis)', () => {
  it('lets a job released from the current pause through, holds every other, and clears the pause only when the backlog is empty', async () => {
    const sub = await store.create({ url: 'http://127.0.0.1:1/x', paths: ['/demo/**'], owner: 'admin' });
    const [a, b, c] = [event(1), event(2), event(3)];
    expect(await store.hold(sub.id, a)).toBe(false);
    const paused = await store.pause(sub.id);
    expect(await store.hold(sub.id, b)).toBe(true);
    expect(await store.hold(sub.id, a)).toBe(true);
    expect(await store.hold(sub.id, a)).toBe(true); // a second job of the same event: held once
    expect((await store.backlog(sub.id, 10)).events.map((e) => e.id)).toEqual([a.id, b.id]);

    // Resume has queued a and b (marked with this pause) but not yet released them: they go out.
    expect(await store.hold(sub.id, a, paused.pausedAt!)).toBe(false);
    // A job marked with an older pause, or none, is still held.
    expect(await store.hold(sub.id, c, '2020-01-01T00:00:00.000Z')).toBe(true);
    // c arrived during the round: the pause stays, with c left for the next round.
    expect(await store.release(paused, [a.id, b.id])).toBe(1);
    expect((await store.get(sub.id))!.paused).toBe(true);
    // A record changed meanwhile is not overwritten.
    expect(await store.release({ ...paused, url: 'http://other' }, [c.id])).toBe(-1);
    expect(await store.release(paused, [])).toBe(0);
    expect(await store.get(sub.id)).toMatchObject({ paused: false, pausedAt: null, url: sub.url });
    expect(await store.hold(sub.id, c)).toBe(false);
  });
});
