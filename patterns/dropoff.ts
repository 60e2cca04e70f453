/**
 * Drop-off: a researcher writes a report into /demo/inbox; a summarizer is woken by its webhook
 * (not by polling), reads the report and writes a summary into /demo/outbox, citing the event
 * that caused it so loops stay bounded.
 */
import { main, openBaton, receiver, runId, say, until } from './shared.js';

main(async () => {
  const baton = await openBaton('drop-off', 'one agent drops a file into a folder; another is woken by a webhook and answers in a second folder');
  const done: string[] = [];
  try {
    const run = runId();
    baton.scratch(`/demo/inbox/${run}`);
    baton.scratch(`/demo/outbox/${run}`);
    const researcher = await baton.agent('researcher', [`write:/demo/inbox/${run}/**`, `read:/demo/outbox/${run}/**`]);
    const summarizer = await baton.agent('summarizer', [
      `read:/demo/inbox/${run}/**`,
      `subscribe:/demo/inbox/${run}/**`,
      `write:/demo/outbox/${run}/**`,
    ]);

    const hook = await receiver(async (e) => {
      say('summarizer', `woken by ${e.event} ${e.path} (${e.id})`);
      const report = (await summarizer.get(e.path)).text();
      const firstLine = report.split('\n').find((l) => l.trim() !== '') ?? '';
      const out = `/demo/outbox/${run}/summary-of-${e.path.split('/').pop()}`;
      await summarizer.put(out, `Summary: ${firstLine.replace(/^#\s*/, '')} (${report.length} bytes read)\n`, { contentType: 'text/markdown', causation: e.id });
      say('summarizer', `wrote ${out}`);
      done.push(out);
    });
    const sub = await summarizer.subscriptions.create({ url: hook.url, paths: [`/demo/inbox/${run}/**`], events: ['file.created'] });
    hook.setSecret(sub.secret);
    say('summarizer', `subscribed to /demo/inbox/${run}/** (${sub.id}): Baton will POST a signed event to its receiver`);

    await researcher.put(`/demo/inbox/${run}/report.md`, '# Agents prefer files\n\nEvidence from three deployments...\n', { contentType: 'text/markdown' });
    say('researcher', `wrote /demo/inbox/${run}/report.md and went on with its day (Baton recorded file.created and queued the webhook)`);

    await until('the summary', () => done.length === 1);
    const summary = await researcher.get(done[0]!);
    say('researcher', `found ${done[0]}: ${summary.text().trim()}`);
    await summarizer.subscriptions.remove(sub.id);
    await hook.close();
  } finally {
    await baton.close();
  }
});
