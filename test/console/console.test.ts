import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { eventually, Receiver } from '../helpers/receiver.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;
let browser: Browser;
let admin: ReturnType<typeof client>;

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
  admin = client(baton.url, baton.adminToken);
  for (const p of ['/demo/drafts/plan.md', '/demo/outbox/report.json']) expect((await admin.put(p, p.endsWith('.json') ? '{"ok":true}' : '# Plan\n- step one\n')).status).toBe(201);
  // Playwright gives each launch a fresh temporary profile of its own (it refuses --user-data-dir).
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await teardown(baton, redis);
});

/** `BATON_CONSOLE_SHOTS=1` refreshes the screenshots in docs/; a normal run leaves the tree alone. */
async function shot(page: Page, name: string): Promise<void> {
  if (process.env.BATON_CONSOLE_SHOTS === '1') await page.screenshot({ path: `docs/${name}.png` });
}

async function signIn(key: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(baton.url + '/');
  await shot(page, 'console-sign-in');
  await page.fill('#key', key);
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=actor]');
  return page;
}

describe('web console in a real browser', () => {
  it('signs in to an HttpOnly SameSite=Strict session under a strict CSP; the key appears nowhere in the page or URL', async () => {
    const res = await fetch(baton.url + '/');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await signIn(baton.adminToken);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'baton_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(baton.adminToken);
    expect(page.url()).not.toContain(baton.adminToken);
    expect(await page.content()).not.toContain(baton.adminToken);
    expect(await page.evaluate(() => JSON.stringify(localStorage) + document.cookie)).not.toContain(baton.adminToken);
    // A change without the page's CSRF token is refused even with the cookie.
    const noCsrf = await page.evaluate(async () => (await fetch('/v1/files/demo/inbox/x.txt', { method: 'PUT', body: 'x' })).status);
    expect(noCsrf).toBe(403);
    await page.click('nav >> text=Audit');
    await page.click('text=Verify chain');
    await page.waitForSelector('p.ok');
    await shot(page, 'console-audit');
    await page.click('nav >> text=Admin');
    await page.waitForSelector('.picker input');
    await shot(page, 'console-admin');
    expect((await admin.get('/demo/inbox/x.txt')).status).toBe(404);
    await page.click('text=Sign out');
    await page.waitForSelector('#key');
    expect(await page.evaluate(async () => (await fetch('/v1/list')).status)).toBe(401);
    await page.context().close();
  });

  it('browses, previews, uploads with the event arriving live', async () => {
    const page = await signIn(baton.adminToken);
    await page.click('text=demo');
    await page.click('text=drafts');
    await page.click('text=plan.md');
    await expect.poll(() => page.textContent('[data-testid=preview]')).toContain('step one');

    await page.click('nav >> text=Activity');
    await page.waitForSelector('[data-testid=stream-state].live');
    await admin.put('/demo/inbox/live.txt', 'hello');
    await page.waitForSelector('[data-testid=events] li:has-text("/demo/inbox/live.txt")', { timeout: 10_000 });
    await shot(page, 'console-activity');

    await page.goto(baton.url + '/#/files/demo/inbox/');
    await page.setInputFiles('#upload-input', { name: 'up.txt', mimeType: 'text/plain', buffer: Buffer.from('uploaded from the browser') });
    await page.waitForSelector('[data-testid=listing] >> text=up.txt');
    const got = await admin.get('/demo/inbox/up.txt');
    expect(got.text).toBe('uploaded from the browser');

    // A real drag and drop: a DataTransfer carrying a File, dispatched as the browser would.
    await page.evaluate(() => {
      const bar = document.querySelector('[data-testid=drop] progress') as HTMLProgressElement;
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => seen.push(bar.hidden ? 'hidden' : String(bar.value))).observe(bar, { attributes: true });
    });
    const dataTransfer = await page.evaluateHandle(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['dropped '.repeat(256 * 1024)], 'dropped.txt', { type: 'text/plain' }));
      return dt;
    });
    await page.dispatchEvent('[data-testid=drop]', 'dragenter', { dataTransfer });
    await page.dispatchEvent('[data-testid=drop]', 'dragover', { dataTransfer });
    expect(await page.getAttribute('[data-testid=drop]', 'class')).toContain('over');
    await page.dispatchEvent('[data-testid=drop]', 'drop', { dataTransfer });
    await page.waitForSelector('[data-testid=drop] :text("Uploaded /demo/inbox/dropped.txt")');
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    // The bar was shown and reached 100 (it shows for the upload, whatever the loopback's speed).
    expect(seen).toContain('100');
    expect(seen.filter((v) => v !== 'hidden').length).toBeGreaterThan(0);
    await page.waitForSelector('[data-testid=listing] >> text=dropped.txt');
    expect(await page.isVisible('[data-testid=drop] progress')).toBe(true);
    expect(await page.getAttribute('[data-testid=drop] progress', 'value')).toBe('100');
    const dropped = await admin.get('/demo/inbox/dropped.txt');
    expect(dropped.status).toBe(200);
    expect(dropped.text).toBe('dropped '.repeat(256 * 1024));
    await shot(page, 'console-files');

    // Two versions of a file, diffed in the page.
    await admin.put('/demo/drafts/plan.md', '# Plan\n- step one\n- step two\n');
    await page.goto(baton.url + '/#/file/demo/drafts/plan.md');
    await page.click('button:has-text("Diff")');
    await page.waitForSelector('[data-testid=diff] .add:has-text("step two")');
    await shot(page, 'console-file');
    await page.context().close();
  });

  it('a human key approves a draft into the gate; an agent key sees nothing of a folder it may not read', async () => {
    const human = await createKey(baton.url, baton.adminToken, { agent: 'reviewer', grants: ['read:/demo/**', 'write:/demo/approved/**'], human: true });
    const page = await signIn(human.key);
    await page.goto(baton.url + '/#/file/demo/drafts/plan.md');
    await page.click('text="Approve into /demo/approved"');
    await page.waitForSelector('text="Approved into /demo/approved/plan.md"');
    expect((await admin.get('/demo/approved/plan.md')).text).toContain('step one');
    await page.context().close();

    const agent = await createKey(baton.url, baton.adminToken, { agent: 'outsider', grants: ['read:/demo/inbox/**'] });
    const p2 = await signIn(agent.key);
    await p2.goto(baton.url + '/#/files/demo/');
    await p2.waitForSelector('[data-testid=listing] a:has-text("inbox")');
    const listing = await p2.textContent('[data-testid=listing]');
    expect(listing).not.toContain('drafts');
    expect(listing).not.toContain('outbox');
    await p2.goto(baton.url + '/#/file/demo/drafts/plan.md');
    await p2.waitForSelector('[data-testid=preview] .error');
    expect(await p2.textContent('[data-testid=preview]')).not.toContain('step one');
    await p2.context().close();
  });

  it('a human key rejects a waiting item with a note that the event and the audit entry carry; an agent key cannot decide', async () => {
    expect((await admin.put('/demo/drafts/risky.md', '# Risky\nclaims without a source\n')).status).toBe(201);
    const human = await createKey(baton.url, baton.adminToken, { agent: 'editor', grants: ['read:/demo/**', 'write:/demo/approved/**'], human: true });
    const page = await signIn(human.key);
    await page.click('nav >> text=Gates');
    const row = '[data-testid=waiting] tr:has(a:text("risky.md"))';
    await page.waitForSelector(row);
    await shot(page, 'console-gates');
    await page.click(`${row} a:text("risky.md")`);
    await expect.poll(() => page.textContent('[data-testid=preview]')).toContain('claims without a source');
    await page.goBack();
    await page.fill(`${row} input.note`, 'cite a source for the claim');
    await page.click(`${row} button:has-text("Reject with note")`);
    await page.waitForSelector('text="Rejected to /demo/drafts/rejected/risky.md: cite a source for the claim"');
    expect((await admin.get('/demo/drafts/risky.md')).status).toBe(404);
    expect((await admin.get('/demo/drafts/rejected/risky.md')).text).toContain('Risky');
    await page.goto(baton.url + '/#/file/demo/drafts/rejected/risky.md');
    await expect.poll(() => page.textContent('[data-testid=rejection]')).toBe('Rejected at /demo/approved by human:editor: cite a source for the claim');

    const { events } = (await admin.call('GET', '/v1/events?after=0&path=/demo/drafts/rejected/**')).json;
    expect(events).toContainEqual(
      expect.objectContaining({ event: 'file.moved', from: '/demo/drafts/risky.md', actor: 'human:editor', review: { decision: 'rejected', gate: '/demo/approved', note: 'cite a source for the claim' } }),
    );
    const entry = await eventually(async () => {
      const { entries } = (await admin.call('GET', '/v1/audit?action=gate.reject')).json;
      return (entries as Array<{ note?: string; actor: string; outcome: string; path: string }>).find((e) => e.note === 'cite a source for the claim');
    }, 5_000, 'the gate.reject audit entry');
    expect(entry).toMatchObject({ actor: 'human:editor', outcome: 'allowed', path: '/demo/drafts/risky.md -> /demo/drafts/rejected/risky.md' });
    // The audit view shows the note too, and the chain with a note in it still verifies.
    await page.click('nav >> text=Audit');
    await page.fill('[aria-label=Action]', 'gate.reject');
    await page.click('button:has-text("Search")');
    await page.waitForSelector('td:text("cite a source for the claim")');
    expect((await admin.call('GET', '/v1/audit/verify')).json.ok).toBe(true);
    await page.context().close();

    // An agent key, even one that may write into the gate's folder, sees the list but cannot decide.
    expect((await admin.put('/demo/drafts/next.md', 'next')).status).toBe(201);
    const agent = await createKey(baton.url, baton.adminToken, { agent: 'drafter', grants: ['read:/demo/**', 'write:/demo/**', 'delete:/demo/**'] });
    const p2 = await signIn(agent.key);
    await p2.click('nav >> text=Gates');
    await p2.waitForSelector('[data-testid=waiting] a:text("next.md")');
    expect(await p2.locator('[data-testid=waiting] button').count()).toBe(0);
    const refused = await p2.evaluate(async () => {
      const csrf = document.querySelector<HTMLMetaElement>('meta[name="baton-csrf"]')!.content;
      const res = await fetch('/v1/gates/approve', { method: 'POST', headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' }, body: JSON.stringify({ path: '/demo/drafts/next.md' }) });
      return { status: res.status, body: await res.json() };
    });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect((await admin.get('/demo/drafts/next.md')).status).toBe(200);
    expect((await admin.get('/demo/approved/next.md')).status).toBe(404);
    await p2.context().close();
  });

  it('answers /favicon.ico without a 401 or an audit entry, and the pages name a bundled icon', async () => {
    // Audited requests before and after: once both entries are there, nothing came between them.
    const marked = (name: string) =>
      eventually(async () => {
        const { entries } = (await admin.call('GET', '/v1/audit?limit=1000')).json as { entries: Array<{ seq: number; path: string | null; code: string | null }> };
        const at = entries.find((e) => e.path === name);
        return at ? { at, entries } : null;
      }, 5_000, `the audit entry of ${name}`);
    expect((await admin.get('/demo/inbox/favicon-before')).status).toBe(404);
    const before = (await marked('/demo/inbox/favicon-before')).at.seq;
    const ico = await fetch(baton.url + '/favicon.ico');
    expect(ico.status).toBe(204);
    const svg = await fetch(baton.url + '/console/favicon.svg');
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(await svg.text()).toContain('<svg');
    expect(await (await fetch(baton.url + '/')).text()).toContain('href="/console/favicon.svg"');
    expect((await admin.get('/demo/inbox/favicon-after')).status).toBe(404);
    const { at: after, entries } = await marked('/demo/inbox/favicon-after');
    // Between the two: only the audit reads that looked for them.
    expect(entries.filter((e) => e.seq > before && e.seq < after.seq && e.path !== null)).toEqual([]);
    expect(entries.filter((e) => e.seq > before && e.seq < after.seq && e.code !== null)).toEqual([]);
  });

  it('shows a queue as a board and retries a failed ticket', async () => {
    await admin.put('/demo/tasks/pending/t1.json', '{"job":1}');
    await admin.put('/demo/tasks/pending/t2.json', '{"job":2}');
    const first = await admin.post('/v1/tickets/claim', { queue: '/demo/tasks' });
    expect(first.status, first.text).toBe(200);
    const failed = await admin.post('/v1/tickets/fail', { path: first.json.path, fencingToken: first.json.fencingToken, reason: 'model timed out' });
    expect(failed.status, failed.text).toBe(200);
    const held = await admin.post('/v1/tickets/claim', { queue: '/demo/tasks' });
    expect(held.status, held.text).toBe(200);
    const page = await signIn(baton.adminToken);
    await page.goto(baton.url + '/#/queues/demo/tasks');
    await page.waitForSelector('[aria-label=failed] :text("model timed out")');
    expect(await page.textContent('[aria-label=in-progress]')).toMatch(/held by admin[\s\S]*s of lease left/);
    await shot(page, 'console-queues');
    await page.click('[aria-label=failed] button:has-text("Retry")');
    await page.waitForSelector('[aria-label=pending] h3:has-text("(1)")');
    expect((await admin.get(first.json.path.replace('/in-progress/', '/pending/').replace('/failed/', '/pending/'))).status).toBe(200);
    await page.context().close();
  });

  it('replays a webhook delivery', async () => {
    const receiver = await Receiver.start();
    try {
      const sub = await admin.post('/v1/subscriptions', { url: receiver.url(), paths: ['/demo/events/**'] });
      expect(sub.status, sub.text).toBe(201);
      receiver.secret = sub.json.secret;
      await admin.put('/demo/events/e1.json', '{"n":1}');
      await receiver.waitFor((r) => r.requests.length >= 1, 10_000, 'first delivery');
      const page = await signIn(baton.adminToken);
      await page.click('nav >> text=Webhooks');
      await page.waitForSelector('[data-testid=deliveries] input[type=checkbox]');
      await page.check('[data-testid=deliveries] input[type=checkbox]');
      await page.click('text=Replay selected');
      await receiver.waitFor((r) => r.requests.length >= 2, 10_000, 'replayed delivery');

      // Pause: a write is held, not sent; Resume sends it, once.
      const section = `[data-sub="${sub.json.id}"]`;
      await page.click(`${section} button:has-text("Pause")`);
      await page.waitForSelector(`${section} [data-testid=sub-state]:has-text("paused")`);
      await admin.put('/demo/events/e2.json', '{"n":2}');
      await eventually(async () => {
        const d = await admin.call('GET', `/v1/subscriptions/${sub.json.id}/deliveries`);
        return (d.json.deliveries as Array<{ error?: string }>).some((x) => x.error?.startsWith('held'));
      }, 10_000, 'the write held by the pause');
      await page.reload();
      await page.waitForSelector(`${section} [data-testid=sub-state]:has-text("1 held")`);
      await shot(page, 'console-webhooks');
      expect(receiver.requests).toHaveLength(2);
      await page.click(`${section} button:has-text("Resume")`);
      await page.waitForSelector(`${section} :text("Resumed: 1 held event(s) queued")`);
      await receiver.waitFor((r) => r.requests.some((q) => q.body.path === '/demo/events/e2.json'), 10_000, 'the held event');
      expect(receiver.requests.filter((q) => q.body.path === '/demo/events/e2.json')).toHaveLength(1);
      await page.context().close();
    } finally {
      await receiver.close();
    }
  });
});
