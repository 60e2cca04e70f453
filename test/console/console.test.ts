import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { client, createKey } from '../helpers/http.js';
import { Receiver } from '../helpers/receiver.js';
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
      await shot(page, 'console-webhooks');
      await page.context().close();
    } finally {
      await receiver.close();
    }
  });
});
