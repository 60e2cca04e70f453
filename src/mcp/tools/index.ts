import type { Action } from '../../auth/grants.js';
import type { Principal } from '../../auth/principal.js';
import { globBase } from '../../core/glob.js';
import type { Access } from '../backend.js';
import { browseTools } from './browse.js';
import { eventTools } from './events.js';
import { readTools } from './read.js';
import { ticketTools } from './tickets.js';
import type { AnyTool } from './types.js';
import { versionTools } from './versions.js';
import { writeTools } from './write.js';

/** Every tool, in the order they are listed. */
export const TOOLS: readonly AnyTool[] = [...readTools, ...writeTools, ...browseTools, ...versionTools, ...eventTools, ...ticketTools];

export const TOOLS_BY_NAME: ReadonlyMap<string, AnyTool> = new Map(TOOLS.map((t) => [t.name, t]));

/** The folders a principal may read under: each read grant's literal base, nested ones dropped. */
export function readableRoots(p: Principal): string[] {
  if (p.kind === 'admin') return ['/'];
  const bases = [...new Set(p.grants.filter((g) => g.action === 'read').map((g) => globBase(g.glob)))].sort();
  return bases.filter((b) => !bases.some((o) => o !== b && (o === '/' || b.startsWith(`${o}/`))));
}

/**
 * What a principal may use, decided from its grants with the same rules as REST: a tool is
 * listed when the key holds at least one grant of every action the tool needs. (Grants never
 * change on a key, so this holds for the key's lifetime.)
 */
export function accessOf(p: Principal): Access {
  const has = (a: Action) => p.kind === 'admin' || p.grants.some((g) => g.action === a);
  const tools = new Set(TOOLS.filter((t) => t.requires.every(has)).map((t) => t.name));
  return { tools, readableRoots: readableRoots(p) };
}
