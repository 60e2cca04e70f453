import picomatch from 'picomatch';
import { BatonError } from '../core/errors.js';
import { globCoversUnder, globReachesUnder, matchesGlob } from '../core/glob.js';

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

/** Why a glob is malformed (an unclosed `[` or `{`, a stray `]` or `}`), or null. */
export function globProblem(glob: string): string | null {
  const open: string[] = [];
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '[' && open[open.length - 1] !== '[') open.push('[');
    else if (ch === ']' && open[open.length - 1] === '[') open.pop();
    else if (ch === '{' && open[open.length - 1] !== '[') open.push('{');
    else if (ch === '}' && open[open.length - 1] === '{') open.pop();
    else if (ch === '}' && open[open.length - 1] !== '[') return 'has a } with no {';
  }
  const last = open[open.length - 1];
  return last ? `has an unclosed ${last} (write \\${last} for a literal ${last})` : null;
}

/**
 * A grant for a new key: parsed, and refused when it could never match anything, which
 * would otherwise give a key that fails later with no hint why.
 */
export function parseNewGrant(text: string): Grant {
  const g = parseGrant(text);
  const problem = globProblem(g.glob);
  if (problem) throw new BatonError('bad_request', `grant ${JSON.stringify(text)}: the glob ${problem}`);
  if (g.glob.length > 1 && g.glob.endsWith('/')) {
    throw new BatonError('bad_request', `grant ${JSON.stringify(text)}: a glob ending in / matches no path; for everything in that folder write ${g.action}:${g.glob}**`);
  }
  return g;
}

/**
 * Grants that are well formed but probably not what was meant: a workspace that does not exist
 * (yet), or no grants at all. Returned as warnings, since a workspace may be created later.
 */
export function grantWarnings(grants: readonly Grant[], workspaces: readonly string[]): string[] {
  if (grants.length === 0) return ['the key has no grants: every request it makes will be refused (add --grant ACTION:GLOB)'];
  const out: string[] = [];
  for (const g of grants) {
    const ws = g.glob.split('/')[1] ?? '';
    if (ws === '' || picomatch.scan(ws).isGlob) continue;
    if (!workspaces.includes(ws)) {
      out.push(`grant ${formatGrant(g)}: there is no workspace named ${ws} (workspaces: ${workspaces.join(', ') || 'none'})`);
    }
  }
  return out;
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

/** Whether one grant for `action` matches every path below the folder. */
export function grantCoversUnder(grants: readonly Grant[], action: Action, dirSegments: readonly string[]): boolean {
  return grants.some((g) => g.action === action && globCoversUnder(g.glob, dirSegments));
}
