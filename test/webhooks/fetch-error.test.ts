import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFetchError } from '../../src/webhooks/fetch-error.js';
import { WebhookPoster } from '../../src/webhooks/post.js';
import { freePort } from '../helpers/redis.js';

const poster = new WebhookPoster();

/** Real failures of the delivery worker's POST on loopback, turned into the words the deliveries list shows. */
async function failure(url: string, timeoutMs = 5000): Promise<string> {
  try {
    await poster.post(url, { 'content-type': 'application/json' }, '{}', timeoutMs);
  } catch (err) {
    return describeFetchError(err, timeoutMs);
  }
  throw new Error('fetch did not fail');
}

let silent: Server;
let plain: Server;
let silentPort = 0;
let plainPort = 0;

beforeAll(async () => {
  silent = createServer(() => undefined); // reads the request, never answers
  plain = createServer((_q, s) => s.end('ok'));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
  silentPort = (silent.address() as { port: number }).port;
  plainPort = (plain.address() as { port: number }).port;
});
afterAll(async () => {
  silent.closeAllConnections();
  await new Promise((r) => silent.close(r));
  await new Promise((r) => plain.close(r));
});

describe('describeFetchError', () => {
  it('names a refused connection with its address', async () => {
    const port = await freePort();
    expect(await failure(`http://127.0.0.1:${port}/hook`)).toBe(`ECONNREFUSED 127.0.0.1:${port}: nothing is listening there`);
  });

  it('names a timeout with its length', async () => {
    expect(await failure(`http://127.0.0.1:${silentPort}/hook`, 300)).toBe('timeout: no answer within 300 ms');
  });

  it('names a TLS failure', async () => {
    expect(await failure(`https://127.0.0.1:${plainPort}/hook`)).toMatch(/^TLS: \w+: wrong version number$/);
  });

  it('names a DNS failure with the host', async () => {
    expect(await failure('http://no-such-host.invalid/hook')).toMatch(/^DNS: no-such-host\.invalid could not be resolved \((ENOTFOUND|EAI_AGAIN)\)$/);
  });
});
