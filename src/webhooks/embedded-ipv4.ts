import { isIPv6 } from 'node:net';

/** The 16 bytes of an IPv6 address in any spelling (`::`, a trailing dotted quad), or null. */
function ipv6Bytes(addr: string): Uint8Array | null {
  if (!isIPv6(addr)) return null;
  let text = addr.replace(/%.*$/, '');
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g || '0', 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

const zero = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
const quad = (b: Uint8Array, at: number, xor = 0) => Array.from(b.subarray(at, at + 4), (x) => x ^ xor).join('.');

/**
 * The IPv4 address an IPv6 address carries, in every form a packet can be routed by: mapped
 * (::ffff:a.b.c.d), compatible (::a.b.c.d), SIIT-translated (::ffff:0:a.b.c.d), NAT64
 * (64:ff9b::/96 and the local 64:ff9b:1::/48), 6to4 (2002::/16) and Teredo (2001::/32, the
 * client's address inverted). A deny list written in IPv4 must catch all of them: otherwise
 * [::a9fe:a9fe] reaches the metadata service that 169.254.169.254 is denied for.
 */
export function embeddedIpv4(addr: string): string | null {
  const b = ipv6Bytes(addr);
  if (!b) return null;
  if (zero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return quad(b, 12);
  if (zero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zero(b, 10, 12)) return quad(b, 12);
  if (zero(b, 0, 12) && !zero(b, 12, 15)) return quad(b, 12); // not :: or ::1
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    if (zero(b, 4, 12)) return quad(b, 12);
    if (b[4] === 0x00 && b[5] === 0x01) return quad(b, 12);
  }
  if (b[0] === 0x20 && b[1] === 0x02) return quad(b, 2);
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) return quad(b, 12, 0xff);
  return null;
}
