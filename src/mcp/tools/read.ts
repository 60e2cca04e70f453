import { z } from 'zod';
import { BatonError } from '../../core/errors.js';
import { describeError } from '../errors.js';
import { headLines, readAll, tailLines } from '../text.js';
import { defineTool, mcpPath, pathArg, textResult, type AnyTool, type ToolEnv } from './types.js';

const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;

const readTextInput = {
  path: pathArg('The file to read'),
  tail: z.number().int().min(0).optional().describe('If provided, returns only the last N lines of the file'),
  head: z.number().int().min(0).optional().describe('If provided, returns only the first N lines of the file'),
};

async function readText(tool: string, args: { path: string; head?: number; tail?: number }, { backend }: ToolEnv) {
  const text = await backend.run(tool, args.path, async (ops) => {
    // Like the reference server: 0 means "not given".
    if (args.head && args.tail) throw new BatonError('bad_request', 'Cannot specify both head and tail parameters simultaneously');
    const f = await ops.read(mcpPath(args.path));
    if (args.tail) return tailLines(f, args.tail);
    if (args.head) return headLines(f, args.head);
    return (await readAll(f)).toString('utf8');
  });
  return textResult(text);
}

const readTextFile = defineTool({
  name: 'read_text_file',
  title: 'Read Text File',
  description:
    'Read a file as UTF-8 text, whatever its extension. Use `head` to read only the first N lines or `tail` for the last N ' +
    '(not both): prefer them for long files and logs. Paths are Baton namespace paths: /<workspace>/<path inside it>; ' +
    'call list_allowed_directories first to see where this key may read. Files over 16 MiB must be read with head or tail.',
  input: readTextInput,
  requires: ['read'],
  annotations: { title: 'Read Text File', ...READ_ONLY },
  output: 'text',
  run: (args, env) => readText('read_text_file', args, env),
});

const readFile = defineTool({
  name: 'read_file',
  title: 'Read File (Deprecated)',
  description: 'Read the complete contents of a file as text. DEPRECATED: use read_text_file, which takes the same arguments.',
  input: readTextInput,
  requires: ['read'],
  annotations: { title: 'Read File (Deprecated)', ...READ_ONLY },
  output: 'text',
  run: (args, env) => readText('read_file', args, env),
});

const MEDIA_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
};

function mediaTypeOf(path: string, stored: string | null): string {
  const base = stored?.split(';')[0]?.trim().toLowerCase();
  if (base && base !== 'application/octet-stream') return base;
  const ext = /\.([^./]+)$/.exec(path)?.[1]?.toLowerCase() ?? '';
  return MEDIA_BY_EXTENSION[ext] ?? 'application/octet-stream';
}

const readMediaFile = defineTool({
  name: 'read_media_file',
  title: 'Read Media File',
  description:
    'Read a binary file (image, audio, PDF, anything) as base64 with its MIME type. Images and audio come back as image/audio ' +
    'content a model can look at or listen to; any other type as an embedded resource (uri baton://<path>). The MIME type is ' +
    'the one stored with the file. Up to 16 MiB.',
  input: { path: pathArg('The file to read') },
  requires: ['read'],
  annotations: { title: 'Read Media File', ...READ_ONLY },
  output: 'media',
  run: async (args, { backend }) => {
    const { data, mimeType, path } = await backend.run('read_media_file', args.path, async (ops) => {
      const f = await ops.read(mcpPath(args.path));
      const bytes = await readAll(f);
      return { data: bytes.toString('base64'), mimeType: mediaTypeOf(f.info.path, f.info.mimeType), path: f.info.path };
    });
    const block = mimeType.startsWith('image/')
      ? { type: 'image' as const, data, mimeType }
      : mimeType.startsWith('audio/')
        ? { type: 'audio' as const, data, mimeType }
        : { type: 'resource' as const, resource: { uri: `baton://${encodeURI(path)}`, mimeType, blob: data } };
    return { content: [block], structuredContent: { content: [block] } };
  },
});

const readMultipleFiles = defineTool({
  name: 'read_multiple_files',
  title: 'Read Multiple Files',
  description:
    'Read several text files at once: cheaper than one call per file when comparing or analysing them. Each file comes back ' +
    'as "<path>:\\n<content>", separated by "\\n---\\n". A file that cannot be read (missing, not permitted, a folder) ' +
    'shows "<path>: Error - <code>: <reason>" in its place and does not stop the others.',
  input: {
    paths: z
      .array(z.string())
      .min(1)
      .describe('The files to read, e.g. ["/demo/drafts/a.md", "/demo/drafts/b.md"] (paths without a leading / are read from /)'),
  },
  requires: ['read'],
  annotations: { title: 'Read Multiple Files', ...READ_ONLY },
  output: 'text',
  run: async (args, { backend, onInternalError }) => {
    const parts = await Promise.all(
      args.paths.map(async (p) => {
        try {
          const content = await backend.run('read_multiple_files', p, async (ops) => (await readAll(await ops.read(mcpPath(p)))).toString('utf8'));
          return `${p}:\n${content}\n`;
        } catch (err) {
          const e = describeError(err, onInternalError);
          return `${p}: Error - ${e.code}: ${e.message}`;
        }
      }),
    );
    return textResult(parts.join('\n---\n'));
  },
});

export const readTools: AnyTool[] = [readTextFile, readFile, readMediaFile, readMultipleFiles];
