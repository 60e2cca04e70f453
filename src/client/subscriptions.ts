import type { Transport } from './transport.js';
import type {
  CallOptions,
  CreatedSubscription,
  DeliveriesQuery,
  DeliveryList,
  NewSubscription,
  RemovedSubscription,
  ReplayInput,
  ResumedSubscription,
  ReplayResult,
  Subscription,
  SubscriptionList,
} from './types.js';

const subPath = (id: string) => `/v1/subscriptions/${encodeURIComponent(id)}`;

/**
 * `/v1/subscriptions`: signed webhooks. Creating one needs the `subscribe` grant on
 * each glob; a key sees and manages its own subscriptions, the admin token all of them.
 */
export class SubscriptionsApi {
  constructor(private readonly t: Transport) {}

  /** A new subscription; its signing `secret` (`whsec_…`) is shown only in this answer. */
  create(input: NewSubscription, call?: CallOptions): Promise<CreatedSubscription> {
    const { url, paths, events } = input;
    return this.t.json({ method: 'POST', path: '/v1/subscriptions', json: { url, paths, ...(events ? { events } : {}) }, call });
  }

  list(call?: CallOptions): Promise<SubscriptionList> {
    return this.t.json({ method: 'GET', path: '/v1/subscriptions', call });
  }

  get(id: string, call?: CallOptions): Promise<Subscription> {
    return this.t.json({ method: 'GET', path: subPath(id), call });
  }

  /** Delete a subscription and its delivery log. YAML-declared ones answer `conflict`. */
  remove(id: string, call?: CallOptions): Promise<RemovedSubscription> {
    return this.t.json({ method: 'DELETE', path: subPath(id), call });
  }

  /** The latest delivery attempts, newest first; `status` keeps one kind (e.g. `dead`). */
  deliveries(id: string, q: DeliveriesQuery = {}): Promise<DeliveryList> {
    const { status, ...call } = q;
    return this.t.json({ method: 'GET', path: `${subPath(id)}/deliveries`, query: { status }, call });
  }

  /** Hold deliveries: matching events are kept in the subscription's backlog, nothing is sent. */
  pause(id: string, call?: CallOptions): Promise<Subscription> {
    return this.t.json({ method: 'POST', path: `${subPath(id)}/pause`, call });
  }

  /** Deliver the backlog held while paused, oldest first, then go on live. */
  resume(id: string, call?: CallOptions): Promise<ResumedSubscription> {
    return this.t.json({ method: 'POST', path: `${subPath(id)}/resume`, call });
  }

  /**
   * Deliver again the named events, or every matching event after `since` (`0`: all retained),
   * dead-lettered ones included; a subscription disabled by a 410 is enabled again.
   */
  replay(id: string, input: ReplayInput): Promise<ReplayResult> {
    const { eventIds, since, ...call } = input;
    const json = { ...(eventIds ? { eventIds } : {}), ...(since === undefined ? {} : { since: String(since) }) };
    return this.t.json({ method: 'POST', path: `${subPath(id)}/replay`, json, call });
  }
}
