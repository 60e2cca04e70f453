import { BatonError } from '../core/errors.js';
import { isWithin, parsePath, type BatonPath } from '../core/paths.js';
import { grantAllows, grantCoversUnder, grantReachesUnder, type Action } from './grants.js';
import type { Principal } from './principal.js';

/**
 * The one authorization decision, used by REST, MCP and CLI alike. Default deny: a key may do
 * exactly what one of its grants names. Gates add a second rule on top: only humans (and the
 * operator's admin token) may put files into a gated folder.
 */
export function can(p: Principal, action: Action, path: BatonPath): boolean {
  if (p.kind === 'admin') return true;
  return grantAllows(p.grants, action, path.full);
}

export function authorize(p: Principal, action: Action, path: BatonPath, gates: readonly string[] = []): void {
  if (!can(p, action, path)) {
    throw new BatonError('forbidden', `${action} on ${path.full} is not granted to this key${holds(p)}`);
  }
  if (action === 'write' && isGated(p, path, gates)) {
    throw new BatonError('forbidden', `${path.full} is in a gated folder: only a human key may write there`);
  }
}

/** What a refused key does hold, so the person reading the refusal can see the mismatch. */
function holds(p: Principal): string {
  if (p.kind === 'admin') return '';
  const grants = p.grants.map((g) => `${g.action}:${g.glob}`);
  return grants.length ? ` (it holds ${grants.join(', ')})` : ' (it holds no grants)';
}

function isGated(p: Principal, path: BatonPath, gates: readonly string[]): boolean {
  if (p.kind === 'admin' || p.human) return false;
  return gates.some((g) => isWithin(path, parsePath(g)));
}

/** May the key read anything at or below this folder? Decides what a listing shows. */
export function canReadUnder(p: Principal, dir: BatonPath): boolean {
  if (p.kind === 'admin') return true;
  return grantReachesUnder(p.grants, 'read', dir.segments);
}

/** May the key read everything below this folder? Then a listing need not ask of each entry. */
export function canReadAllUnder(p: Principal, dir: BatonPath): boolean {
  if (p.kind === 'admin') return true;
  return grantCoversUnder(p.grants, 'read', dir.segments);
}

export function authorizeAdmin(p: Principal): void {
  if (p.kind === 'admin') return;
  if (!p.grants.some((g) => g.action === 'admin')) throw new BatonError('forbidden', 'this key has no admin grant');
}
