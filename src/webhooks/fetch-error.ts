/**
 * Why a webhook POST got no answer, in words an operator can act on. The error may be node:http's
 * own system error, or (from `fetch`) "fetch failed" with the reason in its `cause` (a system error, a DNS or TLS error, or an
 * AggregateError when every address of a name refused).
 */
export function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: unknown };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timeout: no answer within ${timeoutMs} ms`;
  const cause = (e?.cause ?? e) as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string; errors?: unknown[] };
  const inner = (Array.isArray(cause?.errors) && cause.errors.length > 0 ? cause.errors[0] : cause) as typeof cause;
  const code = inner?.code ?? cause?.code;
  const where = inner?.address ? `${inner.address}${inner.port ? `:${inner.port}` : ''}` : '';
  switch (code) {
    case 'ECONNREFUSED':
      return `ECONNREFUSED ${where}: nothing is listening there`.replace(' :', ':');
    case 'ECONNRESET':
      return `ECONNRESET ${where}: the receiver closed the connection`.replace(' :', ':');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${code} ${where}: no route to the receiver`.replace(' :', ':');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DNS: ${inner?.hostname ?? cause?.hostname ?? 'the host'} could not be resolved (${code})`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `timeout: could not connect within the connect timeout${where ? ` (${where})` : ''}`;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `timeout: no answer within ${timeoutMs} ms`;
  }
  const message = inner?.message ?? cause?.message ?? '';
  // node:https reports a failed handshake as EPROTO with OpenSSL's error line; its last named
  // part ("wrong version number") is what an operator can act on.
  const openssl = /SSL routines:[^:]*:([^:]+)/.exec(message);
  if (openssl) return `TLS: ${code ?? 'handshake failed'}: ${openssl[1]}`;
  if (typeof code === 'string' && (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))) {
    return `TLS: ${code}: ${inner?.message ?? cause?.message}`;
  }
  if (typeof code === 'string') return `${code}${where ? ` ${where}` : ''}: ${inner?.message ?? e?.message}`;
  return (cause as Error | undefined)?.message ?? e?.message ?? String(err);
}
