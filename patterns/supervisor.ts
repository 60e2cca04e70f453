/**
 * Supervisor: a manager writes three tickets; three workers claim them (exactly one worker per
 * ticket, with a lease and a fencing token), write their artifacts, and complete them. The
 * manager reviews the artifacts, rejects one with feedback and sends it back; it is redone; the
 * manager compiles the final result.
 */
import type { BatonClient } from '../src/client/index.js';
import { agent, main, openBaton, runId, say } from './shared.js';

main(async () => {
  const baton = await openBaton();
  try {
    const run = runId();
    const queue = `/demo/tasks/${run}`;
    const artifacts = `/demo/outbox/${run}`;
    const manager = await agent(baton.admin, baton.url, 'manager', [`write:${queue}/**`, `read:/demo/**`, `delete:${queue}/**`, `write:/demo/outbox/**`]);
    const workers: Array<[string, BatonClient]> = [];
    for (const name of ['worker-1', 'worker-2', 'worker-3']) {
      workers.push([name, await agent(baton.admin, baton.url, name, [`claim:${queue}/**`, `read:${queue}/**`, `write:${artifacts}/**`])]);
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
  } finally {
    await baton.close();
  }
});
