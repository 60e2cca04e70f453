import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { ErrorCode, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

/** One `tools/call` request, as the SDK's server would hand it to the tool handler. */
export interface DirectCall {
  id: string | number;
  name: string;
  args: Record<string, unknown> | undefined;
}

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
const PARAM_KEYS = new Set(['name', 'arguments']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

/**
 * The call in `message` when it is one plain `tools/call` request: a strict JSON-RPC request
 * whose params hold only `name` and an object of `arguments` (no `_meta` for progress or tasks,
 * no task augmentation), which the SDK's server would hand to the tool handler as it is and
 * answer with the handler's result alone. Null for any other message.
 */
export function plainToolCall(message: unknown): DirectCall | null {
  if (!isPlainObject(message) || message.method !== 'tools/call' || message.jsonrpc !== '2.0' || !onlyKeys(message, REQUEST_KEYS)) return null;
  const id = message.id;
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return null;
  const params = message.params;
  if (!isPlainObject(params) || typeof params.name !== 'string' || !onlyKeys(params, PARAM_KEYS)) return null;
  const args = params.arguments;
  if (args !== undefined && !isPlainObject(args)) return null;
  return { id: id as string | number, name: params.name, args };
}

/**
 * The POST a client sends for almost every call of a session: one `tools/call`, nothing else.
 * Such a request needs none of the SDK transport's and protocol's machinery (stream mapping,
 * a per-request AbortController, three zod passes over the message): only the tool's answer,
 * as JSON. This returns the call when the request is exactly one the SDK would accept and
 * answer that way — a plain tools/call (above) with the headers the transport checks
 * (Accept, Content-Type, MCP-Protocol-Version) valid — and null for anything else, which then
 * goes to the SDK's transport and gets its usual answer, refusals included.
 */
export function directToolCall(body: unknown, header: (name: string) => string | undefined): DirectCall | null {
  const call = plainToolCall(body);
  if (!call) return null;
  const accept = header('accept');
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return null;
  if (!isJsonContentType(header('content-type') ?? null)) return null;
  const version = header('mcp-protocol-version');
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return null;
  return call;
}

/** The JSON-RPC error the SDK's protocol layer answers for a handler that threw `err`. */
export function rpcErrorOf(err: unknown): { code: number; message: string; data?: unknown } {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
  return {
    code: Number.isSafeInteger(e.code) ? (e.code as number) : ErrorCode.InternalError,
    message: typeof e.message === 'string' ? e.message : 'Internal error',
    ...(e.data !== undefined ? { data: e.data } : {}),
  };
}
