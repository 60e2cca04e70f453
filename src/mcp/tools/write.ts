import { z } from 'zod';
import { isBatonClientError } from '../../client/errors.js';
import { isBatonError } from '../../core/errors.js';
import { applyEdits, fencedDiff, readAll, unifiedDiff } from '../text.js';
import { DeleteResult } from '../../api/schemas.js';
import { defineJsonTool, defineTool, mcpPath, pathArg, textResult, type AnyTool } from './types.js';

/** An edit re-applied on fresh content after a concurrent writer got in first. */
const EDIT_ATTEMPTS = 3;

function isStale(err: unknown): boolean {
  return (isBatonError(err) || isBatonClientError(err)) && err.code === 'precondition_failed';
}

const writeFile = defineTool({
  name: 'write_file',
  title: 'Write File',
  description:
    'Create a file or replace its whole content with `content` (UTF-8 text), atomically: readers see the old or the new ' +
    'file, never a mix. Folders on the way are created. The old content stays restorable (list_versions, restore_version), ' +
    'and other agents watching the folder are notified. To change part of a file, prefer edit_file.',
  input: { path: pathArg('The file to write'), content: z.string().describe('The complete new content of the file') },
  requires: ['write'],
  annotations: { title: 'Write File', readOnlyHint: false, idempotentHint: true, destructiveHint: true, openWorldHint: false },
  output: 'text',
  run: async (args, { backend }) => {
    await backend.run('write_file', args.path, (ops) => ops.write(mcpPath(args.path), args.content));
    return textResult(`Successfully wrote to ${args.path}`);
  },
});

const editFile = defineTool({
  name: 'edit_file',
  title: 'Edit File',
  description:
    'Replace text in a file and get a git-style unified diff of the change. Each edit replaces the first exact occurrence of ' +
    '`oldText` with `newText`; when there is none, a run of whole lines equal to oldText up to indentation is replaced, ' +
    'keeping the file\'s indentation. Edits apply in order; if one matches nowhere the file is left unchanged. Include enough ' +
    'surrounding text in oldText to make it unique. `dryRun: true` returns the diff without writing. If another agent ' +
    'changes the file meanwhile, the edits are re-applied to its new content, never over it.',
  input: {
    path: pathArg('The file to edit'),
    edits: z
      .array(
        z.object({
          oldText: z.string().describe('Text to search for - must match exactly'),
          newText: z.string().describe('Text to replace with'),
        }),
      )
      .describe('Replacements, applied in order'),
    dryRun: z.boolean().default(false).describe('Preview changes using git-style diff format'),
  },
  requires: ['read', 'write'],
  annotations: { title: 'Edit File', readOnlyHint: false, idempotentHint: false, destructiveHint: true, openWorldHint: false },
  output: 'text',
  run: async (args, { backend }) => {
    const diff = await backend.run('edit_file', args.path, async (ops) => {
      const path = mcpPath(args.path);
      for (let attempt = 1; ; attempt++) {
        const f = await ops.read(path);
        const etag = f.info.etag;
        const before = (await readAll(f)).toString('utf8');
        const after = applyEdits(before, args.edits);
        const diff = fencedDiff(unifiedDiff(path, before, after));
        if (args.dryRun) return diff;
        try {
          // Compare-and-swap on the etag read: a write that landed in between is never overwritten.
          await ops.write(path, after, etag ? { ifMatch: etag } : {});
          return diff;
        } catch (err) {
          if (!isStale(err) || attempt >= EDIT_ATTEMPTS) throw err;
        }
      }
    });
    return textResult(diff);
  },
});

const createDirectory = defineTool({
  name: 'create_directory',
  title: 'Create Directory',
  description:
    'Create a folder, with any missing parents; succeeds if it already exists. Writing a file creates its folders anyway, ' +
    'so this is only needed for an empty folder (a drop-off point another agent will write into).',
  input: { path: pathArg('The folder to create') },
  requires: ['write'],
  annotations: { title: 'Create Directory', readOnlyHint: false, idempotentHint: true, destructiveHint: false, openWorldHint: false },
  output: 'text',
  run: async (args, { backend }) => {
    await backend.run('create_directory', args.path, (ops) => ops.mkdir(mcpPath(args.path)));
    return textResult(`Successfully created directory ${args.path}`);
  },
});

const moveFile = defineTool({
  name: 'move_file',
  title: 'Move File',
  description:
    'Move or rename a file or folder within a workspace, atomically. Fails with conflict if the destination exists. When ' +
    'several agents race to move the same file (e.g. to claim it), exactly one succeeds; the others get not_found or ' +
    'conflict. Needs read and delete on the source and write on the destination.',
  input: { source: pathArg('The file or folder to move'), destination: pathArg('Where it goes') },
  requires: ['read', 'delete', 'write'],
  annotations: { title: 'Move File', readOnlyHint: false, idempotentHint: false, destructiveHint: true, openWorldHint: false },
  output: 'text',
  auditPath: (a) => (typeof a.source === 'string' && typeof a.destination === 'string' ? `${a.source} -> ${a.destination}` : null),
  run: async (args, { backend }) => {
    await backend.run('move_file', `${args.source} -> ${args.destination}`, (ops) => ops.move(mcpPath(args.source), mcpPath(args.destination)));
    return textResult(`Successfully moved ${args.source} to ${args.destination}`);
  },
});

const deleteFile = defineJsonTool({
  name: 'delete_file',
  title: 'Delete File',
  description:
    'Delete a file (or an empty folder). Its versions are kept: restore_version brings it back. Returns the REST answer ' +
    '{path,type,deleted,etag,version}.',
  input: { path: pathArg('The file to delete') },
  requires: ['delete'],
  annotations: { title: 'Delete File', readOnlyHint: false, idempotentHint: false, destructiveHint: true, openWorldHint: false },
  output: DeleteResult,
  run: (args, { backend }) => backend.run('delete_file', args.path, (ops) => ops.delete(mcpPath(args.path))),
});

export const writeTools: AnyTool[] = [writeFile, editFile, createDirectory, moveFile, deleteFile];
