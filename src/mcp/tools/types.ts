import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Action } from '../../auth/grants.js';
import { parsePath } from '../../core/paths.js';
import type { Access, Backend } from '../backend.js';

export interface ToolEnv {
  backend: Backend;
  access: Access;
  /** Where failures that are bugs (not refusals) are reported. */
  onInternalError(err: unknown): void;
}

/**
 * One MCP tool. `requires` lists the grant actions a key needs (at least one grant of each) to
 * ever use it; a key lacking one does not see the tool. `output` says how results look:
 * `text` tools mirror the reference filesystem server (`structuredContent: {content: text}`),
 * `json` tools return the REST response body as structuredContent and as text.
 */
export interface ToolDef<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: S;
  requires: readonly Action[];
  annotations: ToolAnnotations;
  output: 'text' | 'json' | 'media';
  /** The path an audit entry names when the call is refused before any operation. */
  auditPath?: (args: Record<string, unknown>) => string | null;
  run(args: z.infer<z.ZodObject<S>>, env: ToolEnv): Promise<CallToolResult>;
}

// Tools are stored type-erased; defineTool keeps each one's arguments typed where it is written.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool = ToolDef<any>;

export function defineTool<S extends z.ZodRawShape>(def: ToolDef<S>): AnyTool {
  return def as AnyTool;
}

export function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: { content: text } };
}

export function jsonResult(body: unknown): CallToolResult {
  const structured = (body ?? {}) as Record<string, unknown>;
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

/**
 * An MCP path in canonical form. Paths follow the REST rules; one without a leading
 * `/` is read from `/`, so `demo/notes.md` is `/demo/notes.md`.
 */
export function mcpPath(input: string, opts: { allowRoot?: boolean } = {}): string {
  return parsePath(input.startsWith('/') ? input : `/${input}`, opts).full;
}

/** A glob argument (events, subscriptions): rooted at `/` like paths. */
export function mcpGlob(input: string): string {
  return input.startsWith('/') ? input : `/${input}`;
}

export const pathArg = (what = 'Path') =>
  z.string().describe(`${what}, e.g. /workspace/folder/file.md (a path without a leading / is read from /)`);
