/**
 * 6. S3 PUT/GET latency. s3rver (a fake S3 on the local disk, bench-started on 127.0.0.1, run
 * under --openssl-legacy-provider) with one bucket; `baton serve` with one S3 workspace on it
 * (prefix `s3ws/`, reconcileSeconds 15, the default). One client, sequential: PUT of a new 1 KiB
 * file through Baton's REST API, then GET of each file written. Floor: the same calls made with
 * the raw `@aws-sdk/client-s3` (PutObject of a new key, GetObject) against the same s3rver and
 * bucket, under another prefix (so Baton's reconciler never sees them).
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createKey } from '../test/helpers/http.js';
import { startRedis } from '../test/helpers/redis.js';
import { S3RVER_ENV, startS3rver } from '../test/helpers/s3rver.js';
import type { Ctx } from './run.js';
import { HttpClient } from './lib/http.js';
import { lat, type Row, type Section } from './lib/report.js';
import { KIB, launchBaton } from './lib/stack.js';
import { msSince, now, summarize } from './lib/stats.js';

export async function s3PutGet(ctx: Ctx): Promise<Section> {
  const n = ctx.quick ? 50 : 500;
  const warm = ctx.quick ? 10 : 50;
  const limitMs = ctx.quick ? 20_000 : 120_000;
  const scope = ctx.scope.child();
  try {
    const redis = await startRedis();
    scope.defer('redis-server', () => redis.stop());
    const s3 = await startS3rver('baton-bench');
    scope.defer('s3rver', () => s3.destroy());
    const { baton } = await launchBaton(scope, {
      redisUrl: redis.url,
      workspaces: { 's3ws.yaml': s3.workspaceYaml('s3ws', { reconcileSeconds: 15, folders: ['bench'] }) },
      env: S3RVER_ENV,
    });
    const { key } = await createKey(baton.url, baton.adminToken, { agent: 'bench', grants: ['read:/s3ws/**', 'write:/s3ws/**'] });
    const api = new HttpClient(baton.url, key);
    scope.defer('http agent', () => api.close());
    // The SDK warns once that its releases from 2027 need Node 22; noise here (it is only the floor's client).
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const sdk = s3.client();
    scope.defer('s3 client', () => sdk.destroy());

    // Times one sequential loop of `count` ops, bounded by `limitMs`; throws on the first failure.
    const timed = async (count: number, op: (i: number) => Promise<void>): Promise<number[]> => {
      const out: number[] = [];
      const stopAt = Date.now() + limitMs;
      for (let i = 0; i < count && Date.now() < stopAt; i++) {
        const t0 = now();
        await op(i);
        out.push(msSince(t0));
      }
      return out;
    };
    const batonPut = (tag: string) => async (i: number) => {
      const r = await api.request('PUT', `/v1/files/s3ws/bench/${tag}-${i}.txt`, KIB, { 'content-type': 'text/plain' });
      if (r.status !== 201) throw new Error(`Baton PUT on S3: ${r.status} ${r.body.toString().slice(0, 200)}`);
    };
    const batonGet = (tag: string) => async (i: number) => {
      const r = await api.request('GET', `/v1/files/s3ws/bench/${tag}-${i}.txt`);
      if (r.status !== 200 || r.body.length !== 1024) throw new Error(`Baton GET on S3: ${r.status} ${r.body.length} bytes`);
    };
    const rawPut = (tag: string) => async (i: number) => {
      await sdk.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `floor/${tag}-${i}.txt`, Body: KIB, ContentType: 'text/plain' }));
    };
    const rawGet = (tag: string) => async (i: number) => {
      const out = await sdk.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `floor/${tag}-${i}.txt` }));
      const b = await out.Body!.transformToByteArray();
      if (b.length !== 1024) throw new Error(`raw GetObject: ${b.length} bytes`);
    };

    // Warm-up (not counted): connections, the SDK's signer, Baton's driver.
    ctx.log(`  s3: warm-up, then ${n} sequential PUTs and GETs each way`);
    await timed(warm, batonPut('warm'));
    await timed(warm, batonGet('warm'));
    await timed(warm, rawPut('warm'));
    await timed(warm, rawGet('warm'));

    const floorPut = summarize(await timed(n, rawPut('f')));
    const floorGet = summarize(await timed(floorPut.n, rawGet('f')));
    const put = summarize(await timed(n, batonPut('f')));
    const get = summarize(await timed(put.n, batonGet('f')));

    const short = (s: { n: number }) => (s.n < n ? ` (only ${s.n} within ${limitMs / 1000} s)` : '');
    const rows: Row[] = [
      { group: '6', metric: 'PUT of a new 1 KiB file on an S3 workspace', unit: 'ms', baton: lat(put), floor: { ...lat(floorPut), what: 'raw SDK PutObject, same s3rver' }, note: `${put.n} sequential${short(put)}; ${put.n ? (1000 / put.mean).toFixed(0) : '—'} PUTs/s vs ${floorPut.n ? (1000 / floorPut.mean).toFixed(0) : '—'}/s raw` },
      { group: '6', metric: 'GET of a 1 KiB file on an S3 workspace', unit: 'ms', baton: lat(get), floor: { ...lat(floorGet), what: 'raw SDK GetObject, same s3rver' }, note: `${get.n} sequential${short(get)}` },
    ];
    return { id: 's3', title: `6. S3 (s3rver on 127.0.0.1) PUT / GET, one client, sequential${ctx.quick ? ' (quick mode: 50 each)' : ''}`, rows, details: { n, put, get, floorPut, floorGet } };
  } finally {
    await scope.close();
  }
}
