/**
 * Bus: a signup service drops one event file into /demo/events; welcome, CRM and analytics each
 * hear it through their own subscription. A fourth listener (billing) joins later without
 * touching the others, and hears the next signup like everyone else.
 */
import { main, openBaton, receiver, runId, say, until } from './shared.js';

main(async () => {
  const baton = await openBaton('bus', 'one publisher, many subscribers: each listener has its own webhook on one folder, and a new one joins without touching the others');
  const heard = new Map<string, string[]>();
  const hooks: Array<{ close(): Promise<void> }> = [];
  const subs: Array<() => Promise<unknown>> = [];
  try {
    const run = runId();
    const folder = baton.scratch(`/demo/events/${run}`);
    const signup = await baton.agent('signup', [`write:${folder}/**`]);

    const listen = async (name: string) => {
      const client = await baton.agent(name, [`read:${folder}/**`, `subscribe:${folder}/**`]);
      heard.set(name, []);
      const hook = await receiver(async (e) => {
        const user = (await client.get(e.path)).json<{ email: string }>();
        heard.get(name)!.push(e.path);
        say(name, `heard ${e.path.split('/').pop()} → ${user.email}`);
      });
      const sub = await client.subscriptions.create({ url: hook.url, paths: [`${folder}/**`], events: ['file.created'] });
      hook.setSecret(sub.secret);
      hooks.push(hook);
      subs.push(() => client.subscriptions.remove(sub.id));
      say(name, `subscribed to ${folder}/** with its own key and receiver`);
    };
    for (const name of ['welcome', 'crm', 'analytics']) await listen(name);

    await signup.put(`${folder}/signup-1.json`, JSON.stringify({ email: 'ada@example.com' }), { contentType: 'application/json' });
    say('signup', `published ${folder}/signup-1.json`);
    await until('three listeners', () => [...heard.values()].every((h) => h.length === 1));

    await listen('billing');
    say('billing', 'joined the bus; nobody else changed');
    await signup.put(`${folder}/signup-2.json`, JSON.stringify({ email: 'grace@example.com' }), { contentType: 'application/json' });
    say('signup', `published ${folder}/signup-2.json`);
    await until('four listeners', () => heard.get('billing')!.length === 1 && ['welcome', 'crm', 'analytics'].every((n) => heard.get(n)!.length === 2));
    say('bus', `deliveries: ${[...heard].map(([n, h]) => `${n}=${h.length}`).join(', ')}`);
  } finally {
    for (const remove of subs) await remove().catch(() => undefined);
    for (const h of hooks) await h.close();
    await baton.close();
  }
});
