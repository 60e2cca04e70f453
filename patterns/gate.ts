/**
 * Human-in-the-loop gate: an agent drafts a contract; only a human key may put it into the gated
 * /demo/approved folder; the signer may read approved files and nothing else.
 */
import { isBatonClientError } from '../src/client/index.js';
import { main, openBaton, runId, say } from './shared.js';

main(async () => {
  const baton = await openBaton('human gate', 'agents draft, only a human key may put a file into the gated /demo/approved folder, and a signer reads approved files only');
  try {
    const run = runId();
    baton.scratch(`/demo/drafts/${run}`);
    baton.scratch(`/demo/approved/${run}`);
    const draft = `/demo/drafts/${run}/contract.md`;
    const approved = `/demo/approved/${run}/contract.md`;
    const drafter = await baton.agent('drafter', ['write:/demo/**', 'read:/demo/drafts/**', 'delete:/demo/drafts/**']);
    const human = await baton.agent('alice', ['read:/demo/drafts/**', 'delete:/demo/drafts/**', 'write:/demo/approved/**'], true);
    const signer = await baton.agent('signer', ['read:/demo/approved/**']);

    await drafter.put(draft, '# Services agreement\n\nThe parties agree to hand work over through files.\n', { contentType: 'text/markdown' });
    say('drafter', `drafted ${draft}`);

    try {
      await drafter.move(draft, approved);
      throw new Error('the gate let an agent approve its own draft');
    } catch (err) {
      if (!isBatonClientError(err) || err.code !== 'forbidden') throw err;
      say('drafter', `tried to approve it itself: ${err.code} (only a human key may write into /demo/approved)`);
    }

    const text = (await human.get(draft)).text();
    say('alice', `read the draft (${text.length} bytes) and approved it`);
    await human.move(draft, approved);

    const signed = (await signer.get(approved)).text();
    say('signer', `read ${approved}: "${signed.split('\n')[0]}" and signed it`);
    try {
      await signer.get(draft);
      throw new Error('the signer could read a draft');
    } catch (err) {
      if (!isBatonClientError(err) || (err.code !== 'forbidden' && err.code !== 'not_found')) throw err;
      say('signer', `cannot read drafts: ${err.code}`);
    }
  } finally {
    await baton.close();
  }
});
