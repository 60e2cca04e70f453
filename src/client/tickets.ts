import type { Transport } from './transport.js';
import type { CallOptions, ClaimedTicket, CompleteResult, FailResult, HeartbeatResult } from './types.js';

/**
 * `/v1/tickets`: the supervisor pattern. Claim takes the oldest ticket of a queue's pending/
 * folder with a lease and a fencing token; carry the token on heartbeat, complete and fail (and,
 * as `call.fencing`, on writes made for the ticket) so a worker whose lease lapsed is refused.
 */
export class TicketsApi {
  constructor(private readonly t: Transport) {}

  /** The oldest pending ticket, or null when the queue is empty. */
  async claim(queue: string, opts: { leaseSeconds?: number } = {}, call?: CallOptions): Promise<ClaimedTicket | null> {
    const res = await this.t.request({ method: 'POST', path: '/v1/tickets/claim', json: { queue, ...opts }, call });
    if (res.status === 204) return null;
    return (await res.json()) as ClaimedTicket;
  }

  heartbeat(path: string, fencingToken: number, opts: { leaseSeconds?: number } = {}, call?: CallOptions): Promise<HeartbeatResult> {
    return this.t.json({ method: 'POST', path: '/v1/tickets/heartbeat', json: { path, fencingToken, ...opts }, call });
  }

  /** Move the ticket to done/, with `result` written beside it as `<name>.result`. */
  complete(path: string, fencingToken: number, result?: unknown, call?: CallOptions): Promise<CompleteResult> {
    return this.t.json({ method: 'POST', path: '/v1/tickets/complete', json: { path, fencingToken, ...(result === undefined ? {} : { result }) }, call });
  }

  /** Back to pending/ with `retry` (while attempts remain), else to failed/ with the reason beside it. */
  fail(path: string, fencingToken: number, opts: { retry?: boolean; reason?: string } = {}, call?: CallOptions): Promise<FailResult> {
    return this.t.json({ method: 'POST', path: '/v1/tickets/fail', json: { path, fencingToken, ...opts }, call });
  }
}
