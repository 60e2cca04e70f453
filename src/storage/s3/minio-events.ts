import type { IncomingMessage } from 'node:http';
import { Client } from 'minio';

export interface MinioListenConfig {
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
}

/**
 * Whether the endpoint is MinIO: its unauthenticated liveness route answers 200 with a MinIO
 * `Server` header. Anything else (AWS, s3rver, a proxy) is left to the periodic reconcile.
 */
export async function isMinio(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/minio/health/live', endpoint), { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel().catch(() => undefined);
    return res.ok && (res.headers.get('server') ?? '').toLowerCase().includes('minio');
  } catch {
    return false;
  }
}

/** Keys in MinIO's event records are URL-encoded (a space as `+`). */
export function decodeEventKey(key: string): string | null {
  try {
    return decodeURIComponent(key.replace(/\+/g, '%20'));
  } catch {
    return null;
  }
}

/** Percent-encoding as S3 signs query strings (RFC 3986: also `!'()*`). */
function awsEscape(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Listen to MinIO's bucket notifications (its `ListenBucketNotification` extension: a signed
 * GET whose response streams one JSON object per line) and call `onKey` for every object
 * created or removed under the prefix. The request is made and signed by the `minio` client;
 * the stream is parsed here, line by line, so that a server answering something else (S3 XML,
 * an error page, a dropped connection) only ends the listener with `onError`, never throws
 * out of a stream callback. The reconcile stays the source of truth either way;
 * notifications only make changes show up sooner.
 */
export function listenMinio(cfg: MinioListenConfig, onKey: (key: string) => void, onError: (err: unknown) => void): { stop(): void } {
  let stopped = false;
  let current: IncomingMessage | null = null;
  const fail = (err: unknown) => {
    if (stopped) return;
    stopped = true;
    current?.destroy();
    onError(err);
  };
  let client: Client;
  try {
    const url = new URL(cfg.endpoint);
    const useSSL = url.protocol === 'https:';
    client = new Client({
      endPoint: url.hostname,
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      region: cfg.region,
      pathStyle: true,
      accessKey: process.env.AWS_ACCESS_KEY_ID ?? '',
      secretKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
    });
  } catch (err) {
    queueMicrotask(() => fail(err));
    return { stop: () => void (stopped = true) };
  }
  const query = [
    ...(cfg.prefix ? [`prefix=${awsEscape(cfg.prefix)}`] : []),
    ...['s3:ObjectCreated:*', 's3:ObjectRemoved:*'].map((e) => `events=${awsEscape(e)}`),
  ]
    .sort()
    .join('&');

  const handleLine = (line: string) => {
    const text = line.trim();
    if (text === '') return;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error(`the server does not stream MinIO notifications (got ${JSON.stringify(text.slice(0, 40))})`);
    }
    const records = (doc as { Records?: unknown })?.Records;
    if (!Array.isArray(records)) return;
    for (const r of records) {
      const raw = (r as { s3?: { object?: { key?: unknown } } })?.s3?.object?.key;
      if (typeof raw !== 'string') continue;
      const key = decodeEventKey(raw);
      if (key !== null) onKey(key);
    }
  };

  const poll = async () => {
    while (!stopped) {
      const res = await client.makeRequestAsync({ method: 'GET', bucketName: cfg.bucket, query }, '', [200], cfg.region);
      current = res;
      if (stopped) {
        res.destroy();
        return;
      }
      let carry = '';
      const started = Date.now();
      for await (const chunk of res) {
        const lines = (carry + (chunk as Buffer).toString('utf8')).split('\n');
        carry = lines.pop() ?? '';
        for (const line of lines) handleLine(line);
        if (carry.length > 1 << 20) throw new Error('the notification stream sent an over-long line');
      }
      handleLine(carry);
      // a server that answers and hangs up at once must not be asked again in a tight loop
      if (Date.now() - started < 1000) await new Promise((r) => setTimeout(r, 1000));
    }
  };
  poll().catch(fail);
  return {
    stop() {
      stopped = true;
      current?.destroy();
    },
  };
}
