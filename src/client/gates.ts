import type { Transport } from './transport.js';
import type { CallOptions, GateDecision, GateList } from './types.js';

/**
 * `/v1/gates`: human gates with a waiting list. Any key lists what it may read; only a human key
 * with `write` on the gate approves (into the gate) or rejects (into `<from>/rejected/`, with a note).
 */
export class GatesApi {
  constructor(private readonly t: Transport) {}

  list(call?: CallOptions): Promise<GateList> {
    return this.t.json({ method: 'GET', path: '/v1/gates', call });
  }

  /** `gate` is needed only when the item's folder waits for several gates. */
  approve(path: string, opts: { gate?: string; note?: string } = {}, call?: CallOptions): Promise<GateDecision> {
    return this.t.json({ method: 'POST', path: '/v1/gates/approve', json: { path, ...opts }, call });
  }

  /** The note is required: it travels on the event and the audit entry, and tells the author why. */
  reject(path: string, note: string, opts: { gate?: string } = {}, call?: CallOptions): Promise<GateDecision> {
    return this.t.json({ method: 'POST', path: '/v1/gates/reject', json: { path, note, ...opts }, call });
  }
}
