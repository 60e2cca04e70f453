import type { MiddlewareHandler } from 'hono';
import { BatonError } from '../../core/errors.js';
import type { AppEnv } from '../env.js';

/** `Baton-Causation`, `Baton-Ticket` and `Baton-Fencing-Token` into the operation context. */
export function coordinationHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ctx = c.get('ctx');
    const cause = c.req.header('baton-causation');
    if (cause) {
      if (!/^evt_[A-Za-z0-9]{1,64}$/.test(cause)) throw new BatonError('bad_request', 'Baton-Causation must be an event id (evt_…)');
      ctx.causedBy = cause;
    }
    const ticket = c.req.header('baton-ticket');
    const token = c.req.header('baton-fencing-token');
    if (ticket !== undefined || token !== undefined) {
      if (!ticket || !token || !/^\d+$/.test(token)) throw new BatonError('bad_request', 'Baton-Ticket and a numeric Baton-Fencing-Token go together');
      ctx.fencing = { ticket, token: Number(token) };
    }
    await next();
  };
}
