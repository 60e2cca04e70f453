import { describe, expect, it } from 'vitest';
import { parsePath, type BatonPath } from '../../src/core/paths.js';
import { PathQueue } from '../../src/storage/path-queue.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

/** A queue whose checks each wait until released, recording the batches handed to them. */
function heldQueue() {
  const releases: Array<() => void> = [];
  const batches: string[][] = [];
  const q = new PathQueue(async (batch: BatonPath[]) => {
    batches.push(batch.map((p) => p.full));
    await new Promise<void>((r) => releases.push(r));
  });
  const releaseOne = async () => {
    releases.shift()?.();
    await tick();
  };
  return { q, batches, releaseOne };
}

describe('PathQueue', () => {
  it('a producer waiting for room resumes only once the checks have brought the queue below its bound', async () => {
    const { q, batches, releaseOne } = heldQueue();
    for (let i = 0; i < 2000; i++) q.add(parsePath(`/w/f-${i}.txt`));
    await tick();
    // the first path went out alone; 1,999 wait
    expect(batches.map((b) => b.length)).toEqual([1]);
    let resumed = false;
    const room = q.room(1000).then(() => (resumed = true));
    await releaseOne(); // a batch of 512 out: 1,487 wait
    expect(resumed).toBe(false);
    await releaseOne(); // another 512: 975 wait
    expect(resumed).toBe(true);
    await room;
    expect(batches.map((b) => b.length)).toEqual([1, 512, 512]);
    while (q.size > 0) await releaseOne();
    await q.idle();
    expect(new Set(batches.flat()).size).toBe(2000);
  });

  it('a path reported many times while it waits is checked once', async () => {
    const { q, batches, releaseOne } = heldQueue();
    q.add(parsePath('/w/first.txt'));
    for (let i = 0; i < 3; i++) q.add(parsePath('/w/a.txt'));
    q.add(parsePath('/w/b.txt'));
    while (q.size > 0) await releaseOne();
    await q.idle();
    expect(batches).toEqual([['/w/first.txt'], ['/w/a.txt', '/w/b.txt']]);
  });

  it('a producer waiting for room is let go when the queue stops', async () => {
    const { q, releaseOne } = heldQueue();
    for (let i = 0; i < 600; i++) q.add(parsePath(`/w/f-${i}.txt`));
    const room = q.room(10);
    const stopped = q.stop();
    await releaseOne();
    await stopped;
    await room;
  });
});
