import { z } from 'zod';
import { CreatedSubscription, EVENT_TYPE_NAMES, EventPage } from '../../api/schemas.js';
import { defineJsonTool, mcpGlob, type AnyTool } from './types.js';

/** Long enough to be useful, short enough for MCP clients' usual 60 s request timeout. */
const DEFAULT_WAIT_SECONDS = 25;
const MAX_WAIT_SECONDS = 300;

const waitForChanges = defineJsonTool({
  name: 'wait_for_changes',
  title: 'Wait for Changes',
  description:
    'Block until a file matching the glob `path` is created, updated, deleted or moved (or a ticket event happens there), or ' +
    'until `timeoutSeconds` pass; returns {events:[…], cursor}. Each event has event (file.created, file.updated, ' +
    'file.deleted, file.moved, ticket.*), path, actor, etag, version, time. Pass the returned cursor as `after` on the next ' +
    'call so no event is missed between calls; without `after` only events from now on count, and after="0" starts from ' +
    'the oldest retained event. An empty events list means the timeout passed: call again to keep waiting. Use this ' +
    'instead of polling with list_directory.',
  input: {
    path: z.string().describe('Glob of the paths to watch, e.g. /demo/inbox/** (without a leading / it is read from /)'),
    after: z.string().optional().describe('The cursor from the previous call; "0" for the oldest retained event'),
    timeoutSeconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_WAIT_SECONDS)
      .optional()
      .describe(`How long to wait for a first event (default ${DEFAULT_WAIT_SECONDS}, at most ${MAX_WAIT_SECONDS}); keep it below your client's request timeout`),
    limit: z.number().int().min(1).max(1000).optional().describe('At most this many events (default 100)'),
  },
  requires: ['read'],
  annotations: { title: 'Wait for Changes', readOnlyHint: true, openWorldHint: false },
  output: EventPage,
  run: (args, { backend }) =>
    backend.run('wait_for_changes', args.path, (ops) =>
      ops.events({ path: mcpGlob(args.path), after: args.after, waitSeconds: args.timeoutSeconds ?? DEFAULT_WAIT_SECONDS, limit: args.limit }),
    ),
});

const subscribe = defineJsonTool({
  name: 'subscribe',
  title: 'Subscribe (Webhook)',
  description:
    'Register a webhook: Baton POSTs every matching event to `url` (signed with Standard Webhooks headers), retrying with ' +
    'backoff until it answers 2xx. Returns the subscription {id,url,paths,events,enabled,…,secret}; the secret (whsec_…) ' +
    'verifies signatures and is shown only now. For waiting inside this conversation, use wait_for_changes instead.',
  input: {
    url: z.string().describe('The receiver, e.g. https://agent.example/hooks/baton'),
    paths: z.array(z.string()).min(1).describe('Globs of the paths to watch, e.g. ["/demo/inbox/**"]'),
    events: z.array(z.enum(EVENT_TYPE_NAMES)).optional().describe('Only these event types (default: all)'),
  },
  requires: ['subscribe'],
  annotations: { title: 'Subscribe (Webhook)', readOnlyHint: false, idempotentHint: false, destructiveHint: false, openWorldHint: true },
  output: CreatedSubscription,
  auditPath: (a) => (Array.isArray(a.paths) ? a.paths.join(',') : null),
  run: (args, { backend }) => {
    const input = { url: args.url, paths: args.paths.map(mcpGlob), ...(args.events ? { events: args.events } : {}) };
    return backend.run('subscribe', input.paths.join(','), (ops) => ops.subscribe(input));
  },
});

export const eventTools: AnyTool[] = [waitForChanges, subscribe];
