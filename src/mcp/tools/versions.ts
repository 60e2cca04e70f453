import { z } from 'zod';
import { RestoreResult, VersionList } from '../../api/schemas.js';
import { defineJsonTool, mcpPath, pathArg, type AnyTool } from './types.js';

const listVersions = defineJsonTool({
  name: 'list_versions',
  title: 'List Versions',
  description:
    'The versions of a file, newest first: {versions:[{version,etag,size,mimeType,time,actor,deleted}]}. Every write, and ' +
    'every deletion, adds one; `actor` says which agent or human made it. Use restore_version to bring one back.',
  input: { path: pathArg('The file') },
  requires: ['read'],
  annotations: { title: 'List Versions', readOnlyHint: true, openWorldHint: false },
  output: VersionList,
  run: (args, { backend }) => backend.run('list_versions', args.path, (ops) => ops.versions(mcpPath(args.path))),
});

const restoreVersion = defineJsonTool({
  name: 'restore_version',
  title: 'Restore Version',
  description:
    'Make an older version of a file current again (also undeletes a deleted file). This writes a new version with that ' +
    'content; nothing is lost. Returns {path,size,etag,version,mimeType,restoredFrom}.',
  input: {
    path: pathArg('The file'),
    version: z.number().int().positive().describe('The version number to restore, from list_versions'),
  },
  requires: ['read', 'write'],
  annotations: { title: 'Restore Version', readOnlyHint: false, idempotentHint: false, destructiveHint: false, openWorldHint: false },
  output: RestoreResult,
  run: (args, { backend }) => backend.run('restore_version', args.path, (ops) => ops.restore(mcpPath(args.path), args.version)),
});

export const versionTools: AnyTool[] = [listVersions, restoreVersion];
