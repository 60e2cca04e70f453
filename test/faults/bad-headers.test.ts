import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBaton, teardown, type TestBaton } from '../helpers/baton.js';
import { rawRequest } from '../helpers/raw.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let baton: TestBaton;

beforeAll(async () => {
  redis = await startRedis();
  baton = await startBaton({ redisUrl: redis.url });
});
afterAll(() => teardown(baton, redis));

interface Outcome {
  /** The status of each response on the connection, in order. */
  statuses: number[];
  /** The server closed the connection (rather than leaving it hanging). */
  closed: boolean;
  text: string;
}

/**
 * Send bytes exactly as given on a fresh connection and collect what comes back until the server
 * closes it, or until `quietMs` pass with no close after the last expected answer.
 */
function sendRaw(bytes: Buffer, expected: number, timeoutMs = 3_000): Promise<Outcome> {
  const u = new URL(baton.url);
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname, port: Number(u.port) });
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ statuses: [...text.matchAll(STATUS_LINE)].map((m) => Number(m[1])), closed, text });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      // Every answer expected is in (a keep-alive connection would otherwise stay open).
      const n = [...text.matchAll(STATUS_LINE)].length;
      if (n >= expected && /\r\n\r\n/.test(text) && complete(text)) finish(false);
    });
    sock.on('error', () => finish(true));
    sock.on('close', () => finish(true));
  });
}

/** The last response's body is all there, by its Content-Length. */
function complete(text: string): boolean {
  const last = text.lastIndexOf('HTTP/1.1 ');
  const head = text.slice(last);
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /content-length: (\d+)/i.exec(head.slice(0, end));
  return !m || Buffer.byteLength(head.slice(end + 4), 'latin1') >= Number(m[1]);
}

/** A status line: answers follow each other on a connection with no newline between them. */
const STATUS_LINE = /HTTP\/1\.1 (\d{3}) /g;

const port = () => new URL(baton.url).port;
const req = (lines: string[], body = '') => Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
const get = (path: string, ...headers: string[]) => req([`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port()}`, ...headers]);
const auth = () => `Authorization: Bearer ${baton.adminToken}`;

/** Hostile requests; `answers` is how many responses a well-behaved server may send before closing. */
const cases: { name: string; bytes: () => Buffer; answers?: number }[] = [
  { name: 'NUL in a header value', bytes: () => get('/v1/list/demo', auth(), 'X-Note: a\0b') },
  { name: 'NUL in the Authorization value', bytes: () => get('/v1/list/demo', `Authorization: Bearer ${baton.adminToken}\0x`) },
  { name: 'NUL at the end of a header value', bytes: () => get('/healthz', 'X-Note: abc\0') },
  { name: 'NUL in Baton-Causation', bytes: () => get('/v1/list/demo', auth(), 'Baton-Causation: \0\0\0') },
  { name: 'NUL in a header name', bytes: () => get('/v1/list/demo', auth(), 'X-N\0te: a') },
  { name: 'NUL in the request target', bytes: () => get('/v1/files/demo/inbox/a\0b', auth()) },
  { name: 'NUL in the method', bytes: () => req([`G\0T /healthz HTTP/1.1`, `Host: x`]) },
  { name: 'control character 0x01 in a value', bytes: () => get('/v1/list/demo', auth(), 'X-Note: a\x01b') },
  { name: 'DEL in a value', bytes: () => get('/v1/list/demo', auth(), 'X-Note: a\x7fb') },
  { name: 'ESC sequence in a value', bytes: () => get('/v1/list/demo', auth(), 'X-Note: \x1b[31mred') },
  { name: 'bare CR in a value', bytes: () => get('/v1/list/demo', auth(), 'X-Note: a\rInjected: 1') },
  { name: 'bare LF in a value (header smuggling)', bytes: () => get('/v1/list/demo', auth(), 'X-Note: a\nAuthorization: Bearer nope') },
  { name: 'CR LF smuggling a header through the target', bytes: () => req([`GET /v1/list/demo\r\n${auth()} HTTP/1.1`, 'Host: x']) },
  { name: 'obsolete line folding', bytes: () => get('/v1/list/demo', auth(), 'X-Note: a', ' folded') },
  { name: 'header line without a colon', bytes: () => get('/v1/list/demo', auth(), 'NoColonHere') },
  { name: 'space before the colon', bytes: () => get('/v1/list/demo', auth(), 'X-Note : a') },
  { name: 'bytes over 0x7f in Authorization', bytes: () => get('/v1/list/demo', 'Authorization: Bearer \xff\xfe\x80') },
  { name: 'bytes over 0x7f in Baton-Causation', bytes: () => get('/v1/list/demo', auth(), 'Baton-Causation: \xff\xfe') },
  { name: 'bytes over 0x7f in Baton-Fencing-Token', bytes: () => get('/v1/list/demo', auth(), 'Baton-Fencing-Token: \xc3\x28') },
  { name: 'bytes over 0x7f in Last-Event-ID', bytes: () => get('/v1/events/stream', auth(), 'Last-Event-ID: \xff') },
  { name: 'bytes over 0x7f in If-Match', bytes: () => get('/v1/files/demo/inbox/x.txt', auth(), 'If-Match: "\xff"') },
  { name: 'NUL in Content-Type', bytes: () => req(['PUT /v1/files/demo/inbox/ct.txt HTTP/1.1', 'Host: x', auth(), 'Content-Type: text/\0plain', 'Content-Length: 1'], 'x') },
  { name: 'a 64 KiB header value', bytes: () => get('/v1/list/demo', auth(), `X-Note: ${'a'.repeat(64 * 1024)}`) },
  { name: 'a 1 MiB header value', bytes: () => get('/v1/list/demo', auth(), `X-Note: ${'a'.repeat(1024 * 1024)}`) },
  { name: '5000 headers', bytes: () => get('/v1/list/demo', auth(), ...Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`)) },
  { name: 'a 64 KiB request target', bytes: () => get(`/v1/files/demo/${'a'.repeat(64 * 1024)}`, auth()) },
  { name: 'conflicting Content-Length', bytes: () => req(['PUT /v1/files/demo/inbox/cl.txt HTTP/1.1', 'Host: x', auth(), 'Content-Length: 1', 'Content-Length: 5'], 'hello') },
  { name: 'Content-Length and Transfer-Encoding', bytes: () => req(['PUT /v1/files/demo/inbox/te.txt HTTP/1.1', 'Host: x', auth(), 'Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n') },
  { name: 'a negative Content-Length', bytes: () => req(['PUT /v1/files/demo/inbox/neg.txt HTTP/1.1', 'Host: x', auth(), 'Content-Length: -1'], 'x') },
  { name: 'a bad chunk size', bytes: () => req(['PUT /v1/files/demo/inbox/chunk.txt HTTP/1.1', 'Host: x', auth(), 'Transfer-Encoding: chunked'], 'zz\r\nhello\r\n0\r\n\r\n') },
  { name: 'a bad chunk size after a good chunk', bytes: () => req(['PUT /v1/files/demo/inbox/chunk2.txt HTTP/1.1', 'Host: x', auth(), 'Transfer-Encoding: chunked'], '5\r\nhello\r\n\0\r\n') },
  { name: 'a bad chunk size on a refused write', bytes: () => req(['PUT /v1/files/demo/inbox/chunk3.txt HTTP/1.1', 'Host: x', auth(), 'If-Match: "nope"', 'Transfer-Encoding: chunked'], '5\r\nhello\r\nzz\r\n') },
  { name: 'a chunked JSON body broken midway', bytes: () => req(['POST /v1/move HTTP/1.1', 'Host: x', auth(), 'Content-Type: application/json', 'Transfer-Encoding: chunked'], '3\r\n{"f\r\nqq\r\n') },
  { name: 'an unknown Transfer-Encoding', bytes: () => req(['PUT /v1/files/demo/inbox/te2.txt HTTP/1.1', 'Host: x', auth(), 'Transfer-Encoding: gzip, chunked, x'], '0\r\n\r\n') },
  { name: 'HTTP/1.1 without Host', bytes: () => req(['GET /v1/list/demo HTTP/1.1', auth()]) },
  { name: 'an unknown HTTP version', bytes: () => req(['GET /healthz HTTP/9.9', 'Host: x']) },
  { name: 'garbage instead of a request line', bytes: () => Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n', 'latin1') },
  { name: 'a valid request, then a NUL header on the same connection', bytes: () => Buffer.concat([get('/healthz'), get('/v1/list/demo', auth(), 'X-Note: a\0b')]), answers: 2 },
  { name: 'a valid request, then a 1 MiB header on the same connection', bytes: () => Buffer.concat([get('/v1/list/demo', auth()), get('/healthz', `X-Note: ${'b'.repeat(1024 * 1024)}`)]), answers: 2 },
];

async function healthy(): Promise<boolean> {
  const r = await rawRequest(baton.url, '/healthz', { timeoutMs: 2_000 }).catch(() => null);
  return r?.status === 200;
}

describe('hostile header bytes never stall the server', () => {
  it(`${cases.length} malformed requests, 10 rounds: each a 4xx or a closed connection, never a 5xx or a hang; /healthz answers after each`, async () => {
    let refused4xx = 0;
    let closed = 0;
    let fiveXX = 0;
    let hung = 0;
    let unhealthy = 0;
    const problems: string[] = [];
    for (let round = 0; round < 10; round++) {
      // Half the rounds send them all at once, half one by one: a stall shows either way.
      const outcomes = round % 2 === 0
        ? await Promise.all(cases.map((c) => sendRaw(c.bytes(), c.answers ?? 1)))
        : await cases.reduce<Promise<Outcome[]>>(async (acc, c) => [...(await acc), await sendRaw(c.bytes(), c.answers ?? 1)], Promise.resolve([]));
      outcomes.forEach((o, i) => {
        const c = cases[i]!;
        const expectedAnswers = c.answers ?? 1;
        // The hostile request is the last one on its connection; earlier ones were well-formed.
        const last = o.statuses[expectedAnswers - 1];
        if (o.statuses.some((s) => s >= 500)) {
          fiveXX++;
          problems.push(`${c.name}: ${o.statuses.join(',')}`);
        } else if (last !== undefined && last >= 400 && last < 500) refused4xx++;
        else if (o.closed && last === undefined) closed++;
        else {
          hung++;
          problems.push(`${c.name}: statuses ${o.statuses.join(',') || 'none'}, closed ${o.closed}: ${JSON.stringify(o.text.slice(0, 200))}`);
        }
      });
      if (!(await healthy())) {
        unhealthy++;
        problems.push(`round ${round}: /healthz failed`);
      }
    }
    console.log(`bad headers: ${cases.length * 10} requests, ${refused4xx} refused 4xx, ${closed} closed, ${fiveXX} 5xx, ${hung} hung or accepted, /healthz failures ${unhealthy}`);
    expect(problems).toEqual([]);
  });

  it('on a keep-alive connection that has served a request, a bad header still gets a JSON 400', async () => {
    const u = new URL(baton.url);
    const sock = connect({ host: u.hostname, port: Number(u.port) });
    let text = '';
    sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => {});
    await new Promise<void>((r) => sock.on('connect', () => r()));
    sock.write(get('/healthz'));
    for (let i = 0; i < 100 && !complete(text); i++) await new Promise((r) => setTimeout(r, 20));
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    // Once the server is done with that answer too (a bad request arriving while an answer is
    // still going out on the connection gets the connection cut instead).
    await new Promise((r) => setTimeout(r, 1_000));
    sock.write(get('/v1/list/demo', auth(), `X-Note: ${'n'.repeat(20_000)}`));
    await Promise.race([closed, new Promise((r) => setTimeout(r, 3_000))]);
    sock.destroy();
    expect([...text.matchAll(STATUS_LINE)].map((m) => Number(m[1]))).toEqual([200, 400]);
    expect(text).toContain('"code":"bad_request"');
  });

  it('a refused header is answered as JSON with a machine-readable code', async () => {
    const o = await sendRaw(get('/v1/list/demo', auth(), 'X-Note: a\0b'), 1);
    expect(o.statuses).toEqual([400]);
    expect(o.text).toMatch(/content-type: application\/json/i);
    expect(o.text).toContain('"code":"bad_request"');
    expect(await healthy()).toBe(true);
  });
});
