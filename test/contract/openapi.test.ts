import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { tempDir } from '../helpers/temp.js';

const run = promisify(execFile);

describe('the served API description', () => {
  let redis: TestRedis;
  let baton: TestBaton;

  beforeAll(async () => {
    redis = await startRedis();
    baton = await startBaton({ redisUrl: redis.url });
  });
  afterAll(() => teardown(baton, redis));

  it('passes redocly lint with no errors and no warnings', async () => {
    const doc = await (await fetch(`${baton.url}/openapi.json`)).json();
    const file = join(tempDir('baton-openapi-'), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const { stdout, stderr } = await run(join(REPO, 'node_modules', '.bin', 'redocly'), ['lint', '--format=summary', file], {
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    console.log(stdout + stderr);
    expect(stdout + stderr).toMatch(/Woohoo! Your API description is valid/);
    expect(stdout + stderr).not.toMatch(/You have \d+ warning/);
  });

  it('names every operation and declares every POST body', async () => {
    const doc = await (await fetch(`${baton.url}/openapi.json`)).json();
    const ops = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string; requestBody?: unknown }>>).flatMap(([p, item]) =>
      Object.entries(item)
        .filter(([m]) => m !== 'parameters')
        .map(([m, op]) => ({ where: `${m} ${p}`, ...op })),
    );
    expect(ops.filter((o) => !o.operationId).map((o) => o.where)).toEqual([]);
    expect(ops.filter((o) => o.where.startsWith('post') && !o.requestBody).map((o) => o.where)).toEqual([]);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/mcp', '/openapi.json', '/v1/list/{dir}']));
  });

  describe('GET /docs', () => {
    let browser: BrowserContext;
    beforeAll(async () => {
      browser = await chromium.launchPersistentContext(tempDir('baton-chromium-'), {
        executablePath: '/usr/bin/chromium',
        args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    });
    afterAll(() => browser?.close());

    it('renders the API reference from bundled assets, asking nothing of any other host', async () => {
      const page = await browser.newPage();
      const foreign: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(baton.url) && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      const res = await page.goto(`${baton.url}/docs`);
      expect(res!.status()).toBe(200);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page
        .getByText('Write a file atomically')
        .first()
        .waitFor({ state: 'attached', timeout: 15_000 })
        .catch(async (e) => {
          throw new Error(`${e}\nerrors: ${errors.join('; ')}\ntext: ${(await page.content()).slice(0, 1500)}`);
        });
      await page.getByText('Agents hand work to each other through files.').first().waitFor({ state: 'attached', timeout: 5_000 });
      expect(await page.title()).toContain('Baton');
      expect(foreign).toEqual([]);
      await page.close();
    });
  });
});
