import { createRequire } from 'node:module';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { BatonError } from '../core/errors.js';
import type { Backend } from './backend.js';
import { describeError, errorResult } from './errors.js';
import { listResources, listResourceTemplates, readResource, resourceError, subscribeResource, unsubscribeResource, type ResourceSubscriptions } from './resources.js';
import { TOOLS, TOOLS_BY_NAME } from './tools/index.js';
import type { AnyTool } from './tools/types.js';

export const SERVER_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export const INSTRUCTIONS = `Baton is a shared file space where agents hand work to each other.
Paths are /<workspace>/<path inside it>, e.g. /demo/inbox/task.md; a path without a leading / is read from /.
Call list_allowed_directories first: this key may only read below those folders, and a tool it can never use is not listed.
Refusals come back as errors "CODE: message" (forbidden, not_found, conflict, invalid_path, …); structuredContent.error has the same.
To react to another agent's work, use wait_for_changes with the cursor it returns rather than polling.
Files are also resources, baton:///<workspace>/<path>; subscribe to one to be told when it changes.
Every write keeps the previous version (list_versions, restore_version) and is recorded with this agent as its author.`;

const ERROR_SCHEMA = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'message'],
} as const;
const REFUSAL = { type: 'object', properties: { error: ERROR_SCHEMA }, required: ['error'] } as const;

/** zod marks every integer with the safe-integer bounds: noise in a listing a model reads. */
function withoutSafeBounds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutSafeBounds);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if ((k === 'minimum' && v === Number.MIN_SAFE_INTEGER) || (k === 'maximum' && v === Number.MAX_SAFE_INTEGER)) continue;
    out[k] = withoutSafeBounds(v);
  }
  return out;
}

/**
 * What structuredContent holds: the body (reference-style `{content}`, or the REST response
 * schema from src/api) or, for a refusal, `{error}`. JSON Schema draft-07, which every client's
 * validator reads; the named shapes of src/api stay in `definitions` and are referenced.
 */
function outputSchemaOf(t: AnyTool): Tool['outputSchema'] {
  if (t.output === 'text' || t.output === 'media') {
    const content = t.output === 'media' ? { type: 'array', items: { type: 'object' } } : { type: 'string' };
    return { type: 'object', anyOf: [{ type: 'object', properties: { content }, required: ['content'] }, REFUSAL] };
  }
  const { $schema: _draft, definitions, ...body } = withoutSafeBounds(z.toJSONSchema(t.output, { io: 'output', target: 'draft-7' })) as Record<string, unknown>;
  return { type: 'object', anyOf: [body, REFUSAL], ...(definitions ? { definitions } : {}) };
}

function inputSchemaOf(t: AnyTool): Tool['inputSchema'] {
  const schema = withoutSafeBounds(z.toJSONSchema(z.object(t.input), { io: 'input' })) as Record<string, unknown>;
  delete schema.$schema;
  return schema as Tool['inputSchema'];
}

/** Tool listings and argument validators, built once per process. */
const LISTINGS = new Map<string, Tool>(
  TOOLS.map((t) => {
    const listing: Tool = { name: t.name, title: t.title, description: t.description, inputSchema: inputSchemaOf(t), annotations: t.annotations };
    const out = outputSchemaOf(t);
    if (out) listing.outputSchema = out;
    return [t.name, listing];
  }),
);
const VALIDATORS = new Map(TOOLS.map((t) => [t.name, z.object(t.input)]));

function argumentError(error: z.ZodError): BatonError {
  const issue = error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return new BatonError('bad_request', `invalid arguments: ${where}${issue?.message ?? 'do not match the tool\'s input schema'}`);
}

function pathHint(t: AnyTool, args: Record<string, unknown>): string | null {
  if (t.auditPath) return t.auditPath(args);
  return typeof args.path === 'string' ? args.path : null;
}

export interface McpServerOptions {
  /** Failures that are bugs rather than refusals. */
  onInternalError?: (err: unknown) => void;
}

/** Handle one tools/call: refusals become error results; unknown names are protocol errors. */
export async function callTool(backend: Backend, name: string, rawArgs: Record<string, unknown> | undefined, opts: McpServerOptions = {}): Promise<CallToolResult> {
  const tool = TOOLS_BY_NAME.get(name);
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
  const args = rawArgs ?? {};
  const onInternalError = opts.onInternalError ?? (() => {});
  try {
    const access = await backend.access();
    let refusal: BatonError | null = null;
    let parsed: Record<string, unknown> = {};
    if (!access.tools.has(name)) {
      refusal = new BatonError('forbidden', `${name} is not available to this key: it lacks the grants the tool needs`);
    } else {
      const r = VALIDATORS.get(name)!.safeParse(args);
      if (r.success) parsed = r.data;
      else refusal = argumentError(r.error);
    }
    if (refusal) {
      const err = refusal;
      // Refused before any operation: still one audit entry, naming the tool.
      await backend.run(name, pathHint(tool, args), () => Promise.reject(err));
    }
    return await tool.run(parsed, { backend, access, onInternalError });
  } catch (err) {
    return errorResult(describeError(err, onInternalError));
  }
}

let validator: AjvJsonSchemaValidator | undefined;

/** Left to itself each server would compile a fresh Ajv instance, which costs more than a tool call. */
function sharedValidator(): AjvJsonSchemaValidator {
  validator ??= new AjvJsonSchemaValidator();
  return validator;
}

/** What a request handler is given: the transport's auth info carries the request's backend. */
export interface RequestExtra {
  authInfo?: AuthInfo;
}

/** Auth info for one request: the key stays out of it; the backend is what handlers use. */
export function authInfoFor(backend: Backend, actor: string): AuthInfo {
  return { token: '', clientId: actor, scopes: [], extra: { backend } };
}

function backendOf(extra: RequestExtra): Backend {
  const backend = extra.authInfo?.extra?.backend as Backend | undefined;
  if (!backend) throw new McpError(ErrorCode.InternalError, 'internal: request without credentials');
  return backend;
}

/**
 * An MCP server: the same tools, descriptions and results whichever transport carries it. It
 * holds no key: each request's backend (its principal and audit scope) arrives as the
 * request's auth info, so one server serves every request of a session. Only the tools the
 * requesting key can use are listed. `subscriptions` is the session's (stateful transport only).
 */
export function createMcpServer(opts: McpServerOptions & { subscriptions?: ResourceSubscriptions } = {}): Server {
  const server = new Server(
    { name: 'baton', title: 'Baton', version: SERVER_VERSION },
    {
      capabilities: { tools: {}, resources: opts.subscriptions ? { subscribe: true } : {} },
      instructions: INSTRUCTIONS,
      jsonSchemaValidator: sharedValidator(),
    },
  );
  const onInternalError = opts.onInternalError;
  const asResourceError = (err: unknown) => Promise.reject(resourceError(err, onInternalError));
  server.setRequestHandler(ListToolsRequestSchema, async (_req, extra) => {
    const access = await backendOf(extra).access().catch((err: unknown) => {
      const e = describeError(err, onInternalError);
      throw new McpError(ErrorCode.InternalError, `${e.code}: ${e.message}`);
    });
    return { tools: TOOLS.filter((t) => access.tools.has(t.name)).map((t) => LISTINGS.get(t.name)!) };
  });
  server.setRequestHandler(CallToolRequestSchema, (req, extra) => callTool(backendOf(extra), req.params.name, req.params.arguments, opts));
  server.setRequestHandler(ListResourcesRequestSchema, (req, extra) => listResources(backendOf(extra), req.params?.cursor).catch(asResourceError));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, (_req, extra) => listResourceTemplates(backendOf(extra)).catch(asResourceError));
  server.setRequestHandler(ReadResourceRequestSchema, (req, extra) => readResource(backendOf(extra), req.params.uri).catch(asResourceError));
  server.setRequestHandler(SubscribeRequestSchema, (req, extra) =>
    subscribeResource(backendOf(extra), req.params.uri, opts.subscriptions).then(() => ({}), asResourceError),
  );
  server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    try {
      unsubscribeResource(req.params.uri, opts.subscriptions);
      return {};
    } catch (err) {
      return asResourceError(err);
    }
  });
  return server;
}
