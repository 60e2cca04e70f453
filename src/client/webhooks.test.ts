import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signHeaders, newSecret } from '../webhooks/signature.js';
import { verifyWebhook, WebhookVerificationError } from './webhooks.js';

describe('verifyWebhook', () => {
  const secret = newSecret();
  const body = JSON.stringify({ id: 'evt_1', event: 'file.created' });

  it('accepts what Baton signs, as the reference standardwebhooks package does', () => {
    const headers = signHeaders(secret, 'evt_1', body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(verifyWebhook(secret, body, headers)).toEqual(JSON.parse(body));
  });

  it('refuses a changed body, a wrong secret and a stale timestamp', () => {
    const headers = signHeaders(secret, 'evt_1', body);
    expect(() => verifyWebhook(secret, body.replace('created', 'deleted'), headers)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(newSecret(), body, headers)).toThrow(WebhookVerificationError);
    const old = signHeaders(secret, 'evt_1', body, new Date(Date.now() - 3600_000));
    expect(() => verifyWebhook(secret, body, old)).toThrow(/too old/);
  });
});
