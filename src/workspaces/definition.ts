import { z } from 'zod';
import { parsePath } from '../core/paths.js';
import { drivers } from '../storage/create-driver.js';
import type { StorageConfig } from '../storage/registry.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const subscription = z
  .object({
    url: z.string().url(),
    paths: z.array(z.string().startsWith('/')).min(1),
    events: z.array(z.string()).optional(),
    secret: z.string().startsWith('whsec_').optional(),
  })
  .strict();

/**
 * A gate: a path, or `{path, from}` where `from` names the folder(s) whose files wait for a human's
 * decision on it (the gate's waiting list: approve moves one into the gate, reject into
 * `<from>/rejected/`).
 */
const gate = z.union([
  z.string().startsWith('/'),
  z
    .object({ path: z.string().startsWith('/'), from: z.union([z.string().startsWith('/'), z.array(z.string().startsWith('/')).min(1)]).optional() })
    .strict(),
]);

const limits = z
  .object({
    requestsPerSecond: z.number().positive().optional(),
    burst: z.number().int().positive().optional(),
    bytesPerDay: z.number().int().positive().optional(),
  })
  .strict();

/** The schema of a workspace YAML file. Unknown keys are errors: a typo should not silently do nothing. */
export const workspaceFileSchema = z
  .object({
    name: z.string().regex(NAME, 'name: letters, digits, . _ - only, at most 63 characters').optional(),
    id: z.string().min(1).optional(),
    storage: drivers.schema().optional(),
    folders: z.array(z.string().min(1)).default([]),
    gates: z.array(gate).default([]),
    subscriptions: z.array(subscription).default([]),
    limits: limits.optional(),
  })
  .strict();

export interface WorkspaceDefinition {
  name: string;
  id: string;
  storage: StorageConfig;
  folders: string[];
  gates: string[];
  /** Each gate with a waiting list: the folders whose files wait for a decision on it (none when absent). */
  reviews?: Array<{ gate: string; from: string[] }>;
  subscriptions: z.infer<typeof subscription>[];
  limits?: z.infer<typeof limits>;
  /** The YAML file it came from; null when created through the API. */
  source: string | null;
}

/** Validate a parsed YAML document; relative roots are taken from the data directory. */
export function toDefinition(raw: unknown, fallbackName: string, dataDir: string, source: string | null): WorkspaceDefinition {
  const doc = workspaceFileSchema.parse(raw ?? {});
  const name = doc.name ?? fallbackName;
  if (!NAME.test(name) || name.startsWith('.baton')) throw new Error(`invalid workspace name ${JSON.stringify(name)}`);
  for (const f of doc.folders) parsePath(`/${name}/${f.replace(/^\/+|\/+$/g, '')}`);
  const inside = (p: string, what: string): string => {
    const bp = parsePath(p);
    if (bp.workspace !== name) throw new Error(`${what} ${p} is not inside workspace ${name}`);
    return bp.full;
  };
  const gates = doc.gates.map((g) => (typeof g === 'string' ? { path: g } : g));
  for (const g of gates) inside(g.path, 'gate');
  const reviews = gates
    .filter((g) => g.from !== undefined)
    .map((g) => ({ gate: inside(g.path, 'gate'), from: [g.from!].flat().map((f) => inside(f, 'gate source')) }));
  const storage = drivers.settle(doc.storage as StorageConfig | undefined, { workspace: name, dataDir });
  return {
    name,
    id: doc.id ?? `ws_${name}`,
    storage,
    folders: doc.folders.map((f) => f.replace(/^\/+|\/+$/g, '')),
    gates: gates.map((g) => parsePath(g.path).full),
    reviews,
    subscriptions: doc.subscriptions,
    limits: doc.limits,
    source,
  };
}
