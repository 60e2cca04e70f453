import { basename } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ZodError } from 'zod';
import { toDefinition, type WorkspaceDefinition } from './definition.js';

const YAML_FILE = /\.ya?ml$/;

/** A workspace file that cannot be loaded, told as one line a person can act on. */
export class WorkspaceFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly field: string | null,
    readonly reason: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${field ? `${field}: ` : ''}${reason}`);
  }
}

/**
 * Parse and validate one workspace YAML file. Errors name the file, the line and the field
 * (`workspaces/demo.yaml:4: storage.driver: expected "local" or "s3"`), because the schema's own
 * error list is written for programs, not for the person who made the typo.
 */
export function checkWorkspaceText(text: string, file: string, dataDir: string): WorkspaceDefinition {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? null : lines.linePos(offset).line);
  const syntax = doc.errors[0];
  if (syntax) throw new WorkspaceFileError(file, lineOf(syntax.pos[0]), null, `YAML syntax: ${syntax.message.split('\n')[0]}`);
  try {
    return toDefinition(doc.toJS(), basename(file).replace(YAML_FILE, ''), dataDir, file);
  } catch (err) {
    if (err instanceof ZodError) {
      const issue = err.issues[0]!;
      const path = issue.path.map(String);
      // An unknown key has no node of its own in the issue path; point at the key itself.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const nodePath = keys.length > 0 ? [...path, keys[0]!] : path;
      const field = nodePath.length > 0 ? nodePath.join('.') : null;
      return fail(file, lineOf(nodeOffset(doc, nodePath)), field, issue.message);
    }
    throw new WorkspaceFileError(file, null, null, err instanceof Error ? err.message : String(err));
  }
}

function fail(file: string, line: number | null, field: string | null, reason: string): never {
  throw new WorkspaceFileError(file, line, field, reason);
}

/** Where the deepest existing node on `path` starts (a missing field points at its parent). */
function nodeOffset(doc: ReturnType<typeof parseDocument>, path: string[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const segs = path.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    // For a key, its pair's key node gives the line the person typed it on.
    const parent = n > 0 ? doc.getIn(segs.slice(0, -1), true) : null;
    const pair = parent && typeof parent === 'object' && 'items' in parent
      ? (parent.items as Array<{ key?: { value?: unknown; range?: [number, number, number] } }>).find((p) => p?.key && (p.key as { value?: unknown }).value === segs[segs.length - 1])
      : undefined;
    if (pair?.key?.range) return pair.key.range[0];
    const node = doc.getIn(segs, true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return node.range[0];
  }
  return undefined;
}
