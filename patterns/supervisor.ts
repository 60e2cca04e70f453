/**
 * Supervisor: a manager writes three tickets; three workers claim them (exactly one worker per
 * ticket, with a lease and a fencing token), write their artifacts, and complete them. The
 * manager reviews the artifacts, rejects one with feedback and sends it back; it is redone; the
 * manager compiles the final result. Then a worker stalls on an urgent ticket: its lease expires,
 * another worker takes the ticket over, and the stalled worker's late write is refused because its
 * fencing token is no longer the current one.
 */
import { isBatonClientError, type BatonClient } from '../src/client/index.js';
import { main, openBaton, runId, say } from './shared.js';

main(async () => {
  const baton = await openBaton('supervisor', 'a manager fills a ticket queue; workers claim tickets with a lease and a fencing token, and the manager reviews');
  try {
    const run = runId();
    const queue = baton.scratch(`/demo/tasks/${run}`);
    const artifacts = baton.scratch(`/demo/outbox/${run}`);
    const manager = await baton.agent('manager', [`write:${queue}/**`, `read:/demo/**`, `delete:${queue}/**`, `write:/demo/outbox/**`]);
    const workers: Array<[string, BatonClient]> = [];
    for (const name of ['worker-1', 'worker-2', 'worker-3']) {
      workers.push([name, await baton.agent(name, [`claim:${queue}/**`, `read:${queue}/**`, `write:${artifacts}/**`])]);
    }

    const topics = ['pricing page copy', 'onboarding email', 'release notes'];
    for (const [i, topic] of topics.entries()) {
      await manager.put(`${queue}/pending/${i + 1}-${topic.replace(/ /g, '-')}.md`, `Write the ${topic}.`);
    }
    say('manager', `wrote ${topics.length} tickets into ${queue}/pending/`);

    /** Each worker claims until the queue is empty; work is written under the ticket's fencing token. */
    const work = async ([name, w]: [string, BatonClient], draft: (task: string) => string) => {
      for (;;) {
        const t = await w.tickets.claim(queue, { leaseSeconds: 30 });
        if (!t) return;
        const out = `${artifacts}/${t.path.split('/').pop()}`;
        await w.put(out, draft(t.content), { fencing: { ticket: t.path, token: t.fencingToken } });
        await w.tickets.complete(t.path, t.fencingToken, `wrote ${out}`);
        say(name, `claimed ${t.path.split('/').pop()} (token ${t.fencingToken}, attempt ${t.attempt}), wrote ${out}, completed`);
      }
    };
    await Promise.all(workers.map((w, i) => work(w, (task) => (i === 1 ? `TODO ${task}` : `Done: ${task}`))));

    const rejected: string[] = [];
    for await (const e of manager.listAll(artifacts)) {
      const body = (await manager.get(e.path)).text();
      if (body.startsWith('TODO')) {
        const name = e.path.split('/').pop()!;
        rejected.push(name);
        await manager.delete(`${queue}/done/${name}`);
        await manager.put(`${queue}/pending/${name}`, `${body.replace(/^TODO /, '')}\n\nReview: this was left as TODO; please finish it.`);
        say('manager', `rejected ${name}: sent it back to pending/ with feedback`);
      }
    }
    if (rejected.length === 0) throw new Error('expected the manager to reject one artifact');
    await Promise.all(workers.map((w) => work(w, (task) => `Done: ${task.split('\n')[0]}`)));

    const parts: string[] = [];
    for await (const e of manager.listAll(artifacts)) parts.push(`## ${e.path.split('/').pop()}\n${(await manager.get(e.path)).text()}`);
    if (parts.some((p) => p.includes('TODO'))) throw new Error('an artifact is still unfinished');
    await manager.put(`${artifacts}/final.md`, `# Final result\n\n${parts.join('\n\n')}\n`);
    say('manager', `compiled ${parts.length} artifacts into ${artifacts}/final.md`);

    // A lease bounds how long a silent worker holds a ticket; the fencing token makes sure its
    // late work cannot land on top of the worker that took over.
    const [[slowName, slow], [fastName, fast]] = [workers[0]!, workers[1]!];
    await manager.put(`${queue}/pending/urgent-hotfix.md`, 'Write the hotfix notice.');
    say('manager', 'wrote one more ticket: urgent-hotfix.md');
    const stalled = (await slow.tickets.claim(queue, { leaseSeconds: 1 }))!;
    say(slowName, `took urgent-hotfix.md with a 1 s lease (token ${stalled.fencingToken}) and then stalled without a heartbeat`);
    let retaken = null;
    const deadline = Date.now() + 15_000;
    while (!retaken && Date.now() < deadline) {
      retaken = await fast.tickets.claim(queue, { leaseSeconds: 30 });
      if (!retaken) await new Promise((r) => setTimeout(r, 250));
    }
    if (!retaken) throw new Error('the expired ticket never came back to pending/');
    say('baton', `the lease of token ${stalled.fencingToken} expired: urgent-hotfix.md went back to pending/ (ticket.expired)`);
    say(fastName, `took it over (token ${retaken.fencingToken}, attempt ${retaken.attempt})`);
    try {
      await slow.put(`${artifacts}/urgent-hotfix.md`, 'stale work', { fencing: { ticket: stalled.path, token: stalled.fencingToken } });
      throw new Error('a write with a stale fencing token was accepted');
    } catch (err) {
      if (!isBatonClientError(err) || err.code !== 'conflict') throw err;
      say(slowName, `woke up and tried to write with token ${stalled.fencingToken}: refused (${err.code}: ${err.message})`);
    }
    await fast.put(`${artifacts}/urgent-hotfix.md`, 'Done: hotfix notice', { fencing: { ticket: retaken.path, token: retaken.fencingToken } });
    await fast.tickets.complete(retaken.path, retaken.fencingToken, 'done');
    say(fastName, `wrote ${artifacts}/urgent-hotfix.md under token ${retaken.fencingToken} and completed the ticket`);
  } finally {
    await baton.close();
  }
});
