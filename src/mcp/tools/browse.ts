import picomatch from 'picomatch';
import { z } from 'zod';
import type { ListEntry } from '../../client/types.js';
import { BatonError } from '../../core/errors.js';
import type { Ops } from '../backend.js';
import { formatSize } from '../text.js';
import { defineTool, mcpPath, pathArg, textResult, type AnyTool } from './types.js';

const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;
const PAGE = 1000;
/** How many entries one listing tool reads before it stops (a folder) or gives up (a tree). */
export const WALK_LIMIT = 20_000;

const GLOB = { dot: true } as const;

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function relativeTo(root: string, path: string): string {
  return root === '/' ? path.slice(1) : path.slice(root.length + 1);
}

/** Entries of a folder (or the whole tree under it), following cursors, at most `max`. */
async function collect<E>(next: (cursor: string | null) => Promise<{ entries: E[]; cursor: string | null }>, max: number): Promise<{ entries: E[]; truncated: boolean }> {
  const entries: E[] = [];
  let cursor: string | null = null;
  do {
    const page: { entries: E[]; cursor: string | null } = await next(cursor);
    for (const e of page.entries) {
      if (entries.length >= max) return { entries, truncated: true };
      entries.push(e);
    }
    cursor = page.cursor;
  } while (cursor);
  return { entries, truncated: false };
}

function listAll(ops: Ops, dir: string, recursive: boolean, max = WALK_LIMIT) {
  return collect((cursor) => ops.list(dir, { recursive, cursor, limit: PAGE }), max);
}

/** Like listAll, for tools that show only names and types. */
function namesAll(ops: Ops, dir: string, recursive: boolean, max = WALK_LIMIT) {
  return collect((cursor) => ops.names(dir, { recursive, cursor }), max);
}

type Named = Pick<ListEntry, 'path' | 'type'>;

/** Skips entries below a folder that was itself left out, as a walk that does not descend would. */
function pruner(root: string, excluded: (rel: string) => boolean) {
  const dropped: string[] = [];
  return (e: Named): boolean => {
    if (dropped.some((d) => e.path.startsWith(`${d}/`))) return false;
    if (!excluded(relativeTo(root, e.path))) return true;
    if (e.type === 'directory') dropped.push(e.path);
    return false;
  };
}

const listDirectory = defineTool({
  name: 'list_directory',
  title: 'List Directory',
  description:
    'List a folder: one line per entry, "[DIR] name" or "[FILE] name". `/` lists the workspaces. Only what this key may read ' +
    'is shown. Use directory_tree for a whole subtree, list_directory_with_sizes for sizes.',
  input: { path: pathArg('The folder to list (/ for the workspaces)') },
  requires: ['read'],
  annotations: { title: 'List Directory', ...READ_ONLY },
  output: 'text',
  run: async (args, { backend }) => {
    const { entries, truncated } = await backend.run('list_directory', args.path, (ops) => namesAll(ops, mcpPath(args.path, { allowRoot: true }), false));
    const lines = entries.map((e) => `${e.type === 'directory' ? '[DIR]' : '[FILE]'} ${nameOf(e.path)}`);
    if (truncated) lines.push(`[… stopped after ${WALK_LIMIT} entries]`);
    return textResult(lines.join('\n'));
  },
});

const listDirectoryWithSizes = defineTool({
  name: 'list_directory_with_sizes',
  title: 'List Directory with Sizes',
  description:
    'List a folder with file sizes, sorted by name or by size (largest first), followed by totals. Folders are marked [DIR], ' +
    'files [FILE]. Only what this key may read is shown.',
  input: {
    path: pathArg('The folder to list (/ for the workspaces)'),
    sortBy: z.enum(['name', 'size']).optional().default('name').describe('Sort entries by name or size'),
  },
  requires: ['read'],
  annotations: { title: 'List Directory with Sizes', ...READ_ONLY },
  output: 'text',
  run: async (args, { backend }) => {
    const { entries, truncated } = await backend.run('list_directory_with_sizes', args.path, (ops) =>
      listAll(ops, mcpPath(args.path, { allowRoot: true }), false),
    );
    const rows = entries.map((e) => ({ name: nameOf(e.path), dir: e.type === 'directory', size: e.type === 'directory' ? 0 : e.size }));
    rows.sort((a, b) => (args.sortBy === 'size' ? b.size - a.size : a.name.localeCompare(b.name)));
    const lines = rows.map((r) => `${r.dir ? '[DIR]' : '[FILE]'} ${r.name.padEnd(30)} ${r.dir ? '' : formatSize(r.size).padStart(10)}`);
    if (truncated) lines.push(`[… stopped after ${WALK_LIMIT} entries]`);
    const files = rows.filter((r) => !r.dir);
    lines.push('', `Total: ${files.length} files, ${rows.length - files.length} directories`, `Combined size: ${formatSize(files.reduce((s, r) => s + r.size, 0))}`);
    return textResult(lines.join('\n'));
  },
});

interface TreeNode {
  name: string;
  type: 'file' | 'directory';
  children?: TreeNode[];
}

const directoryTree = defineTool({
  name: 'directory_tree',
  title: 'Directory Tree',
  description:
    'The whole subtree under a folder as JSON: [{"name","type":"file"|"directory","children":[…]}], folders always with a ' +
    'children array. `excludePatterns` are globs on paths relative to the folder; a plain name such as "node_modules" ' +
    'excludes that name at any depth. Only what this key may read is shown. For large trees, ask for a deeper folder.',
  input: {
    path: pathArg('The folder at the top of the tree (/ for every workspace)'),
    excludePatterns: z.array(z.string()).optional().default([]).describe('Globs to leave out, e.g. ["*.log", "drafts/old"]'),
  },
  requires: ['read'],
  annotations: { title: 'Directory Tree', ...READ_ONLY },
  output: 'text',
  run: async (args, { backend }) => {
    const tree = await backend.run('directory_tree', args.path, async (ops) => {
      const root = mcpPath(args.path, { allowRoot: true });
      const { entries, truncated } = await namesAll(ops, root, true);
      if (truncated) throw new BatonError('bad_request', `more than ${WALK_LIMIT} entries under ${root}: ask for the tree of a folder deeper down`);
      const matchers = args.excludePatterns.map((p) =>
        p.includes('*') ? [picomatch(p, GLOB)] : [picomatch(p, GLOB), picomatch(`**/${p}`, GLOB), picomatch(`**/${p}/**`, GLOB)],
      );
      const keep = pruner(root, (rel) => matchers.some((ms) => ms.some((m) => m(rel))));
      const top: TreeNode[] = [];
      const dirs = new Map<string, TreeNode>();
      const kept = entries.filter(keep);
      for (const e of kept) {
        const node: TreeNode = e.type === 'directory' ? { name: nameOf(e.path), type: 'directory', children: [] } : { name: nameOf(e.path), type: 'file' };
        if (e.type === 'directory') dirs.set(e.path, node);
      }
      for (const e of kept) {
        const node = e.type === 'directory' ? dirs.get(e.path)! : { name: nameOf(e.path), type: 'file' as const };
        const parent = e.path.slice(0, e.path.lastIndexOf('/')) || '/';
        if (parent === root) top.push(node);
        else dirs.get(parent)?.children!.push(node);
      }
      return top;
    });
    return textResult(JSON.stringify(tree, null, 2));
  },
});

const searchFiles = defineTool({
  name: 'search_files',
  title: 'Search Files',
  description:
    'Find files and folders under `path` whose path relative to it matches the glob `pattern`: "*.md" matches only directly ' +
    'inside, "**/*.md" at any depth, "**/report*" any name starting with report. `excludePatterns` (globs, same base) leave ' +
    'out entries and whole folders. Returns one full path per line, or "No matches found". Only what this key may read.',
  input: {
    path: pathArg('The folder to search under (/ for every workspace)'),
    pattern: z.string().describe('Glob relative to path, e.g. **/*.md'),
    excludePatterns: z.array(z.string()).optional().default([]).describe('Globs relative to path to leave out, e.g. ["archive/**"]'),
  },
  requires: ['read'],
  annotations: { title: 'Search Files', ...READ_ONLY },
  output: 'text',
  run: async (args, { backend }) => {
    const { results, truncated } = await backend.run('search_files', args.path, async (ops) => {
      const root = mcpPath(args.path, { allowRoot: true });
      const { entries, truncated } = await namesAll(ops, root, true);
      const match = picomatch(args.pattern, GLOB);
      const excluders = args.excludePatterns.map((p) => picomatch(p, GLOB));
      const keep = pruner(root, (rel) => excluders.some((x) => x(rel)));
      return { results: entries.filter(keep).filter((e) => match(relativeTo(root, e.path))).map((e) => e.path), truncated };
    });
    const lines = results.length > 0 ? results : ['No matches found'];
    if (truncated) lines.push(`[… stopped after scanning ${WALK_LIMIT} entries: search a folder deeper down]`);
    return textResult(lines.join('\n'));
  },
});

const getFileInfo = defineTool({
  name: 'get_file_info',
  title: 'Get File Info',
  description:
    'Metadata of a file or folder without reading it: type, size, last modification, and for files the MIME type, etag (changes ' +
    'with every write) and version number (see list_versions). One "key: value" per line.',
  input: { path: pathArg('The file or folder') },
  requires: ['read'],
  annotations: { title: 'Get File Info', ...READ_ONLY },
  output: 'text',
  run: async (args, { backend }) => {
    const info = await backend.run('get_file_info', args.path, (ops) => ops.info(mcpPath(args.path)));
    const rows: Array<[string, unknown]> = [
      ['path', info.path],
      ['type', info.type],
      ['size', info.size],
      ['modified', info.modifiedAt],
      ['isDirectory', info.type === 'directory'],
      ['isFile', info.type === 'file'],
    ];
    if (info.type === 'file') rows.push(['mimeType', info.mimeType], ['etag', info.etag], ['version', info.version]);
    return textResult(rows.map(([k, v]) => `${k}: ${v ?? ''}`).join('\n'));
  },
});

const HEADER = 'Allowed directories:';

const listAllowedDirectories = defineTool({
  name: 'list_allowed_directories',
  title: 'List Allowed Directories',
  description:
    'The folders this key may read, one per line ("/" means everything). Everything below each is readable too, and only ' +
    'those paths can be read, listed or searched. Call this first to know where to look. Paths are /<workspace>/<path>.',
  input: {},
  requires: [],
  annotations: { title: 'List Allowed Directories', ...READ_ONLY },
  output: 'text',
  run: async (_args, { backend, access }) =>
    textResult(await backend.run('list_allowed_directories', null, async () => `${HEADER}\n${access.readableRoots.join('\n')}`)),
});

export const browseTools: AnyTool[] = [listDirectory, listDirectoryWithSizes, directoryTree, searchFiles, getFileInfo, listAllowedDirectories];
