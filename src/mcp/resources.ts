import { ErrorCode, McpError, type ListResourcesResult, type ListResourceTemplatesResult, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { BatonError, isBatonError } from '../core/errors.js';
import { parseUrlPath } from '../core/paths.js';
import type { Backend } from './backend.js';
import { describeError, RpcError } from './errors.js';
import { readAll } from './text.js';

/**
 * Workspace files as MCP resources. A file's URI is `baton://` followed by its namespace path,
 * percent-encoded: `/demo/inbox/task.md` is `baton:///demo/inbox/task.md` (the authority is
 * empty, as in `file:///`). Folders are not resources; listing walks every file the key may read.
 */
export const URI_PREFIX = 'baton://';

/** How many listing entries (files and the folders between them) one resources/list page walks. */
const LIST_PAGE = 500;

export function resourceUri(path: string): string {
  return `${URI_PREFIX}${path.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * The namespace path a resource URI names, by the rules of a REST URL path: decoded exactly
 * once, then checked (dot segments, encoded separators, control characters are `invalid_path`).
 * Anything but `baton:///<path>` is refused: another scheme, an authority, a query or fragment.
 */
export function pathOfUri(uri: string): string {
  if (typeof uri !== 'string' || !uri.startsWith(URI_PREFIX)) {
    throw new BatonError('invalid_path', `not a Baton resource URI: ${String(uri).slice(0, 200)} (expected baton:///<workspace>/<path>)`);
  }
  const rest = uri.slice(URI_PREFIX.length);
  if (!rest.startsWith('/')) throw new BatonError('invalid_path', 'a baton:// URI has no host: write baton:///<workspace>/<path> (three slashes)');
  if (/[?#]/.test(rest)) throw new BatonError('invalid_path', 'a baton:// URI has no query or fragment');
  return parseUrlPath(rest).full;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|yaml|x-yaml|toml|javascript|x-sh|sql|graphql|ld\+json)\b)|\+(json|xml)\b/;

/** Text when the stored type says so and the bytes are UTF-8; anything else goes as a base64 blob. */
function textOf(bytes: Buffer, mimeType: string): string | null {
  if (!TEXT_TYPES.test(mimeType)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * A refusal as a JSON-RPC error: not_found is MCP's "resource not found" (-32002), any other
 * refusal is invalid params; `data.code` carries Baton's code, and the message reads `CODE: message` like a tool's.
 */
export function resourceError(err: unknown, onInternalError?: (err: unknown) => void): Error {
  if (err instanceof McpError || err instanceof RpcError) return err;
  const e = describeError(err, onInternalError);
  const code = !isBatonError(err) || e.code === 'internal' ? ErrorCode.InternalError : e.code === 'not_found' ? -32002 : ErrorCode.InvalidParams;
  return new RpcError(code, `${e.code}: ${e.message}`, { code: e.code });
}

export async function listResources(backend: Backend, cursor: string | undefined): Promise<ListResourcesResult> {
  const access = await backend.access();
  if (access.readableRoots.length === 0) return { resources: [] };
  const page = await backend.run('resources/list', '/', (ops) => ops.list('/', { recursive: true, cursor: cursor ?? null, limit: LIST_PAGE }));
  const resources = page.entries
    .filter((e) => e.type === 'file')
    .map((e) => ({
      uri: resourceUri(e.path),
      name: e.path.slice(e.path.lastIndexOf('/') + 1),
      title: e.path,
      ...(e.mimeType ? { mimeType: e.mimeType } : {}),
      size: e.size,
      annotations: { lastModified: e.modifiedAt },
    }));
  return page.cursor ? { resources, nextCursor: page.cursor } : { resources };
}

/** One template per folder the key may read under, so a client can see where to look. */
export async function listResourceTemplates(backend: Backend): Promise<ListResourceTemplatesResult> {
  const { readableRoots } = await backend.access();
  return {
    resourceTemplates: readableRoots.map((root) => ({
      uriTemplate: `${root === '/' ? `${URI_PREFIX}/` : `${resourceUri(root)}/`}{+path}`,
      name: root === '/' ? 'file' : `file under ${root}`,
      title: root === '/' ? 'A file in any workspace' : `A file under ${root}`,
      description: `A file by its namespace path, e.g. ${URI_PREFIX}/demo/inbox/task.md; readable with this key below ${root}`,
    })),
  };
}

/** What an audit entry names for a URI: its path, or the URI itself when it names no valid path. */
function auditPath(uri: string): string {
  try {
    return pathOfUri(uri);
  } catch {
    return String(uri).slice(0, 1100);
  }
}

export async function readResource(backend: Backend, uri: string): Promise<ReadResourceResult> {
  return backend.run('resources/read', auditPath(uri), async (ops) => {
    const f = await ops.read(pathOfUri(uri));
    if (f.info.type !== 'file') {
      f.close();
      throw new BatonError('bad_request', `${f.info.path} is a folder: only files are resources`);
    }
    const bytes = await readAll(f);
    const mimeType = f.info.mimeType ?? 'application/octet-stream';
    const text = textOf(bytes, mimeType);
    return { contents: [text === null ? { uri, mimeType, blob: bytes.toString('base64') } : { uri, mimeType, text }] };
  });
}

/** Where a session's subscriptions live (resource-watch.ts); absent on the stateless transport. */
export interface ResourceSubscriptions {
  /** Resolves once changes from now on will be reported. */
  add(path: string): Promise<void>;
  remove(path: string): void;
}

/** Subscribe after the same read authorization a resources/read of the path gets; the file need not exist yet. */
export async function subscribeResource(backend: Backend, uri: string, subs: ResourceSubscriptions | undefined): Promise<void> {
  if (!subs) {
    throw new RpcError(ErrorCode.InvalidRequest, 'resources/subscribe needs a session: send initialize first and then the Mcp-Session-Id it returns');
  }
  const path = await backend.run('resources/subscribe', auditPath(uri), async (ops) => {
    const p = pathOfUri(uri);
    ops.mayRead(p);
    return p;
  });
  await subs.add(path);
}

export function unsubscribeResource(uri: string, subs: ResourceSubscriptions | undefined): void {
  subs?.remove(pathOfUri(uri));
}
