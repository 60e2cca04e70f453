import { describe, expect, it } from 'vitest';
import { GroupSync } from '../../src/storage/local/group-sync.js';

/** An fsync that takes `ms` and records when each one started and ended. */
function slowFsync(ms: number) {
  const runs: Array<{ dir: string; started: number; ended: number }> = [];
  let clock = 0;
  const tick = () => ++clock;
  const fsync = async (dir: string) => {
    const run = { dir, started: tick(), ended: 0 };
    runs.push(run);
    await new Promise((r) => setTimeout(r, ms));
    run.ended = tick();
  };
  return { runs, fsync, tick };
}

describe('group commit of folder fsyncs', () => {
  it('answers each caller only after an fsync that started after its call, sharing fsyncs under load', async () => {
    const { runs, fsync, tick } = slowFsync(20);
    const g = new GroupSync(fsync);
    const calls: Array<Promise<{ asked: number; answered: number }>> = [];
    const ask = (dir: string) => {
      const asked = tick();
      calls.push(g.sync(dir).then(() => ({ asked, answered: tick() })));
    };
    for (let i = 0; i < 10; i++) ask('/a');
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 10; i++) ask('/a');
    ask('/b');
    await new Promise((r) => setTimeout(r, 30));
    for (let i = 0; i < 10; i++) ask('/a');
    const done = await Promise.all(calls);
    for (const c of done) {
      const covering = runs.filter((r) => r.started > c.asked && r.ended <= c.answered);
      expect(covering.length, JSON.stringify({ c, runs })).toBeGreaterThan(0);
    }
    // 31 callers, 3 rounds on /a (the first fsync, the one after it, the last round) and 1 on /b
    expect(runs.filter((r) => r.dir === '/a').length).toBeLessThanOrEqual(4);
    expect(runs.filter((r) => r.dir === '/b').length).toBe(1);
  });

  it('passes an fsync failure to the callers that waited for it, and the next caller starts afresh', async () => {
    let fail = true;
    const g = new GroupSync(async () => {
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('EIO');
    });
    await expect(g.sync('/a')).rejects.toThrow('EIO');
    fail = false;
    await expect(g.sync('/a')).resolves.toBeUndefined();
  });
});
