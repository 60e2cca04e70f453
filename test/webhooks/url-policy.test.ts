import { describe, expect, it } from 'vitest';
import { DEFAULT_WEBHOOK_DENY } from '../../src/config/settings.js';
import { UrlPolicy } from '../../src/webhooks/url-policy.js';

const policy = new UrlPolicy(DEFAULT_WEBHOOK_DENY, []);
const refused = async (url: string) => policy.check(url).then(() => null, (e: { code?: string; message: string }) => e.code ?? e.message);

describe('webhook addresses that carry the metadata address inside IPv6', () => {
  for (const host of [
    '169.254.169.254',
    '[::ffff:169.254.169.254]', // IPv4-mapped, dotted
    '[::ffff:a9fe:a9fe]', // IPv4-mapped, hex
    '[0:0:0:0:0:ffff:a9fe:a9fe]', // mapped, spelled out
    '[::a9fe:a9fe]', // IPv4-compatible
    '[::169.254.169.254]',
    '[::ffff:0:a9fe:a9fe]', // SIIT-translated
    '[64:ff9b::a9fe:a9fe]', // NAT64 well-known prefix
    '[64:ff9b::169.254.169.254]',
    '[64:ff9b:1::a9fe:a9fe]', // local-use NAT64
    '[2002:a9fe:a9fe::1]', // 6to4
    '[2001:0:4136:e378:8000:63bf:5601:5601]', // Teredo, client 169.254.169.254 inverted
    '[fe80::1]',
  ]) {
    it(`refuses http://${host}/`, async () => {
      expect(await refused(`http://${host}/`)).toBe('forbidden');
    });
  }

  for (const host of ['127.0.0.1', '[::1]', '[::ffff:127.0.0.1]', '[64:ff9b::a00:1]', '[2001:db8::1]', '10.0.0.5']) {
    it(`allows http://${host}/ (loopback and private ranges are allowed by default)`, async () => {
      expect(await refused(`http://${host}/`)).toBeNull();
    });
  }

  it('an allow list written in IPv4 admits the same address spelled as IPv4-mapped IPv6', async () => {
    const only = new UrlPolicy([], ['127.0.0.0/8']);
    await expect(only.check('http://[::ffff:127.0.0.1]/')).resolves.toBeUndefined();
    await expect(only.check('http://[::ffff:10.0.0.1]/')).rejects.toMatchObject({ code: 'forbidden' });
  });
});
