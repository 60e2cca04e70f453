import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { BatonError } from '../core/errors.js';
import { embeddedIpv4 } from './embedded-ipv4.js';

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [addr, bits] = c.split('/');
    const family = isIP(addr ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(addr ?? '')) throw new Error(`not a CIDR: ${c}`);
    list.addSubnet(addr!, bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits), family);
  }
  return list;
}

/**
 * Where webhooks may go. Checked after DNS resolution, so a name that points at the metadata
 * service is refused like the address itself. An allow list, when set, admits only its ranges.
 */
export class UrlPolicy {
  private readonly deny: BlockList;
  private readonly allow: BlockList | null;

  constructor(deny: readonly string[], allow: readonly string[]) {
    this.deny = blockList(deny);
    this.allow = allow.length > 0 ? blockList(allow) : null;
  }

  /** Syntax only: used when a subscription is created. */
  static parse(url: string): URL {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new BatonError('bad_request', 'url is not a valid URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BatonError('bad_request', 'url must be http or https');
    if (u.username || u.password) throw new BatonError('bad_request', 'url must not carry credentials');
    return u;
  }

  /** Throws forbidden when any address the host resolves to is denied. */
  async check(url: string): Promise<void> {
    const u = UrlPolicy.parse(url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const addrs = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
    for (const a of addrs) {
      const family = a.family === 6 ? 'ipv6' : 'ipv4';
      const v4 = family === 'ipv6' ? embeddedIpv4(a.address) : null;
      if (this.deny.check(a.address, family) || (v4 !== null && this.deny.check(v4, 'ipv4'))) {
        throw new BatonError('forbidden', `webhook address ${a.address} is denied${v4 ? ` (it carries ${v4})` : ''}`);
      }
      if (this.allow && !this.allow.check(a.address, family) && !(v4 !== null && this.allow.check(v4, 'ipv4'))) {
        throw new BatonError('forbidden', `webhook address ${a.address} is not in the allow list`);
      }
    }
  }
}
