import { BatonError } from '../core/errors.js';
import { globReachesUnder, matchesGlob } from '../core/glob.js';

export const ACTIONS = ['read', 'write', 'delete', 'claim', 'subscribe', 'admin'] as const;
export type Action = (typeof ACTIONS)[number];

export interface Grant {
  action: Action;
  glob: string;
}

/** `ACTION:GLOB`, e.g. `write:/marketing/drafts/**`. */
export function parseGrant(text: string): Grant {
  const i = text.indexOf(':');
  const action = text.slice(0, i) as Action;
  const glob = text.slice(i + 1);
  if (i < 0 || !ACTIONS.includes(action)) {
    throw new BatonError('bad_request', `grant ${JSON.stringify(text)}: action must be one of ${ACTIONS.join(', ')}`);
  }
  if (!glob.startsWith('/')) throw new BatonError('bad_request', `grant ${JSON.stringify(text)}: glob must start with /`);
  if (/(^|\/)\.\.?(\/|$)/.test(glob) || glob.includes('\\') || glob.includes('\0')) {
    throw new BatonError('bad_request', `grant ${JSON.stringify(text)}: glob may not hold . or .. segments, backslashes or NUL`);
  }
  return { action, glob };
}

export function formatGrant(g: Grant): string {
  return `${g.action}:${g.glob}`;
}

export function grantAllows(grants: readonly Grant[], action: Action, path: string): boolean {
  return grants.some((g) => g.action === action && matchesGlob(g.glob, path));
}

/** Whether any grant for `action` could match something at or below the folder. */
export function grantReachesUnder(grants: readonly Grant[], action: Action, dirSegments: readonly string[]): boolean {
  return grants.some((g) => g.action === action && globReachesUnder(g.glob, dirSegments));
}
