import { createHmac, timingSafeEqual } from 'node:crypto';

export class WebhookVerificationError extends Error {}

const TOLERANCE_SECONDS = 5 * 60;

/**
 * Check a delivery's Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64>`) against the subscription's `whsec_` secret, and that it is
 * fresh (±5 minutes). Returns the parsed event; throws WebhookVerificationError otherwise.
 * `headers` may be a Headers object or Node's lower-cased header record.
 */
export function verifyWebhook<T = unknown>(secret: string, body: string, headers: Headers | Record<string, string | string[] | undefined>, now = Date.now()): T {
  const get = (name: string): string | undefined => {
    if (headers instanceof Headers) return headers.get(name) ?? undefined;
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = get('webhook-id');
  const timestamp = get('webhook-timestamp');
  const signatures = get('webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature');
  const ts = Number(timestamp);
  if (!Number.isInteger(ts) || Math.abs(now / 1000 - ts) > TOLERANCE_SECONDS) throw new WebhookVerificationError('timestamp is too old or too new');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  const ok = signatures.split(' ').some((s) => {
    const [version, sig] = s.split(',');
    if (version !== 'v1' || !sig) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!ok) throw new WebhookVerificationError('no signature matches');
  return JSON.parse(body) as T;
}
