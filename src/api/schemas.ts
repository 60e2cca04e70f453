/**
 * Every request and response body of Baton's REST API, once. The routes validate with these,
 * the OpenAPI document is generated from them, and the client and MCP tools take their types
 * from them, so a change here is a change everywhere the compiler can see. This module imports
 * nothing but zod so the client package can use it without the server.
 */
import { z } from 'zod';

export const EVENT_TYPE_NAMES = [
  'file.created',
  'file.updated',
  'file.deleted',
  'file.moved',
  'ticket.claimed',
  'ticket.completed',
  'ticket.failed',
  'ticket.expired',
] as const;

const time = z.string().meta({ description: 'ISO 8601 time', examples: ['2026-12-04T03:00:00.000Z'] });
const nsPath = z.string().meta({ description: 'namespace path: /<workspace>/<path inside it>', examples: ['/demo/inbox/task.md'] });
const etag = z.string().meta({ description: 'bare etag (no quotes)', examples: ['9f86d081884c7d65'] });
const cursor = z.string().nullable().meta({ description: 'where the next page starts; null at the end' });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ examples: ['not_found'] }),
      message: z.string().meta({ examples: ['no such file /demo/inbox/x.md'] }),
    }).catchall(z.unknown()),
  })
  .meta({ id: 'Error' });

export const WriteResult = z
  .object({ path: nsPath, size: z.int().nonnegative(), etag, version: z.int().positive(), mimeType: z.string() })
  .meta({ id: 'WriteResult', examples: [{ path: '/demo/inbox/task.md', size: 12, etag: '9f86d081884c7d65', version: 1, mimeType: 'text/markdown' }] });

export const DeleteResult = z
  .object({ path: nsPath, type: z.enum(['file', 'directory']), deleted: z.literal(true), etag: etag.nullable(), version: z.int().nullable() })
  .meta({ id: 'DeleteResult' });

export const ListEntry = z
  .object({
    path: nsPath,
    type: z.enum(['file', 'directory']),
    size: z.int().nonnegative(),
    etag: etag.nullable(),
    mimeType: z.string().nullable(),
    modifiedAt: time,
  })
  .meta({ id: 'ListEntry' });

export const ListPage = z.object({ entries: z.array(ListEntry), cursor }).meta({ id: 'ListPage' });

export const LineMatch = z.object({ line: z.int().positive(), text: z.string() }).meta({ id: 'LineMatch' });
export const SearchResult = z
  .object({ path: nsPath, size: z.int().nonnegative(), etag: etag.nullable(), modifiedAt: time, matches: z.array(LineMatch).optional() })
  .meta({ id: 'SearchResult' });
export const SearchPage = z.object({ results: z.array(SearchResult), cursor }).meta({ id: 'SearchPage' });

export const MoveBody = z
  .object({ from: nsPath, to: nsPath, overwrite: z.boolean().optional() })
  .strict()
  .meta({ id: 'MoveRequest', examples: [{ from: '/demo/inbox/task.md', to: '/demo/doing/task.md' }] });
/** A folder move has no etag, version or type of its own: those are null. */
export const MoveResult = z
  .object({ from: nsPath, path: nsPath, size: z.int().nonnegative(), etag: etag.nullable(), version: z.int().positive().nullable(), mimeType: z.string().nullable() })
  .meta({ id: 'MoveResult' });

export const VersionInfo = z
  .object({
    version: z.int().positive(),
    etag: etag.nullable(),
    size: z.int().nonnegative(),
    mimeType: z.string().nullable(),
    time,
    actor: z.string(),
    deleted: z.boolean(),
  })
  .meta({ id: 'VersionInfo' });
export const VersionList = z.object({ versions: z.array(VersionInfo) }).meta({ id: 'VersionList' });

export const RestoreBody = z
  .object({ path: nsPath, version: z.number().int().positive() })
  .strict()
  .meta({ id: 'RestoreRequest', examples: [{ path: '/demo/inbox/task.md', version: 1 }] });
export const RestoreResult = WriteResult.extend({ restoredFrom: z.int().positive() }).meta({ id: 'RestoreResult' });

export const RateLimits = z
  .object({
    requestsPerSecond: z.number().positive().optional(),
    burst: z.number().int().positive().optional(),
    bytesPerDay: z.number().int().positive().optional(),
  })
  .strict()
  .meta({ id: 'RateLimits' });

export const NewKeyBody = z
  .object({
    agent: z.string().min(1).max(128).regex(/^[A-Za-z0-9._@-]+$/, 'agent: letters, digits, . _ @ - only'),
    grants: z.array(z.string().meta({ description: 'ACTION:GLOB' })).max(256),
    human: z.boolean().optional(),
    expiresAt: z.string().optional(),
    limits: RateLimits.optional(),
  })
  .strict()
  .meta({ id: 'NewKey', examples: [{ agent: 'writer', grants: ['write:/demo/inbox/**', 'read:/demo/**'] }] });

export const KeyRecord = z
  .object({
    id: z.string(),
    agent: z.string(),
    grants: z.array(z.string()),
    human: z.boolean(),
    createdAt: time,
    expiresAt: time.nullable(),
    revokedAt: time.nullable(),
    limits: RateLimits.nullable(),
  })
  .meta({ id: 'KeyRecord' });
export const CreatedKey = KeyRecord.extend({
  key: z.string().meta({ description: 'the secret, shown once' }),
  warnings: z.array(z.string()).optional().meta({ description: 'grants that look like mistakes (an unknown workspace, no grants at all); the key was created' }),
}).meta({ id: 'CreatedKey' });
export const KeyList = z.object({ keys: z.array(KeyRecord) }).meta({ id: 'KeyList' });

export const WorkspaceInfo = z
  .object({ name: z.string(), id: z.string(), driver: z.string(), folders: z.array(z.string()), gates: z.array(z.string()) })
  .meta({ id: 'WorkspaceInfo' });
export const WorkspaceList = z.object({ workspaces: z.array(WorkspaceInfo) }).meta({ id: 'WorkspaceList' });
/** The workspace YAML's fields as JSON; the workspace registry validates them in full. */
export const NewWorkspaceBody = z
  .record(z.string(), z.unknown())
  .meta({ id: 'NewWorkspace', examples: [{ name: 'demo', storage: { driver: 'local', root: './data/demo' }, folders: ['inbox', 'done'] }] });

export const GateDecisionBody = z
  .object({
    path: z.string().startsWith('/').meta({ description: 'the waiting item' }),
    gate: z.string().startsWith('/').optional().meta({ description: 'needed only when its folder waits for several gates' }),
    note: z.string().max(4000).optional().meta({ description: 'why; required to reject' }),
  })
  .strict()
  .meta({ id: 'GateDecisionBody', examples: [{ path: '/demo/drafts/post.md', note: 'cite the source for the second claim' }] });
export const GateDecision = z
  .object({
    decision: z.enum(['approved', 'rejected']),
    gate: z.string(),
    from: z.string(),
    path: z.string().meta({ description: 'where the item is now: in the gate, or in <from>/rejected/' }),
    etag: z.string().nullable(),
    note: z.string().optional(),
  })
  .meta({ id: 'GateDecision' });
export const GateList = z
  .object({
    gates: z.array(
      z.object({
        gate: z.string(),
        from: z.array(z.string()),
        canDecide: z.boolean().meta({ description: 'whether this key may approve or reject here (a human key with write on the gate)' }),
        waiting: z.array(z.object({ path: z.string(), size: z.int().nonnegative(), etag: z.string().nullable(), mimeType: z.string().nullable(), modifiedAt: time })),
      }),
    ),
  })
  .meta({ id: 'GateList' });

export const AuditEntry = z
  .object({
    seq: z.int().nonnegative(),
    time,
    actor: z.string(),
    action: z.string(),
    path: z.string().nullable(),
    outcome: z.enum(['allowed', 'denied']),
    code: z.string().nullable(),
    etag: z.string().nullable(),
    note: z.string().optional().meta({ description: 'the words given with a decision, e.g. a gate rejection' }),
    segment: z.string().optional(),
    hash: z.string(),
    prev: z.string(),
  })
  .meta({ id: 'AuditEntry' });
export const AuditPage = z.object({ entries: z.array(AuditEntry), cursor }).meta({ id: 'AuditPage' });
export const AuditVerifyResult = z
  .union([
    z.object({
      ok: z.literal(true),
      entries: z.int().nonnegative(),
      unwritten: z
        .array(z.int().nonnegative())
        .optional()
        .meta({ description: 'numbers reserved by a process that stopped (a crash, or Redis lost) before writing them: not a removal' }),
    }),
    z.object({
      ok: z.literal(false),
      entries: z.int().nonnegative(),
      firstBad: AuditEntry.partial().extend({ seq: z.int().nonnegative() }),
      reason: z.string(),
    }),
  ])
  .meta({ id: 'AuditVerifyResult' });

/** What a ticket.* event adds: the fields that apply to its type. */
export const TicketDetail = z
  .object({
    fencingToken: z.int().positive().optional(),
    attempt: z.int().positive().optional(),
    leaseExpiresAt: time.optional(),
    result: z.string().nullable().optional().meta({ description: 'ticket.completed: where the result was written' }),
    retry: z.boolean().optional().meta({ description: 'ticket.failed: whether it went back to pending/' }),
    reason: z.string().nullable().optional(),
    next: z.enum(['pending', 'failed']).optional().meta({ description: 'ticket.expired: where the ticket went' }),
  })
  .meta({ id: 'TicketDetail' });

/** What a human's decision at a gate adds to its file.moved event. */
export const ReviewDetail = z
  .object({
    decision: z.enum(['approved', 'rejected']),
    gate: nsPath,
    note: z.string().optional(),
  })
  .meta({ id: 'ReviewDetail' });

export const BatonEvent = z
  .object({
    id: z.string(),
    event: z.enum(EVENT_TYPE_NAMES),
    workspaceId: z.string(),
    workspace: z.string(),
    path: nsPath,
    from: nsPath.optional(),
    mimeType: z.string().nullable(),
    size: z.int().nonnegative(),
    etag: etag.nullable(),
    version: z.int().nullable(),
    seq: z.int().nonnegative(),
    actor: z.string(),
    time,
    restoredFrom: z.int().positive().optional(),
    causation: z.object({ eventId: z.string(), depth: z.int().nonnegative() }).optional(),
    ticket: TicketDetail.optional(),
    review: ReviewDetail.optional(),
  })
  .meta({ id: 'BatonEvent' });
export const EventPage = z
  .object({ events: z.array(BatonEvent), cursor: z.string().meta({ description: 'where the next read continues' }) })
  .meta({ id: 'EventPage' });

export const NewSubscriptionBody = z
  .object({
    url: z.string().min(1).max(2048),
    paths: z.array(z.string().startsWith('/').max(1024)).min(1).max(64),
    events: z.array(z.enum(EVENT_TYPE_NAMES)).optional(),
  })
  .strict()
  .meta({ id: 'NewSubscription', examples: [{ url: 'https://agent.example/hook', paths: ['/demo/inbox/**'] }] });
export const Subscription = z
  .object({
    id: z.string(),
    url: z.string(),
    paths: z.array(z.string()),
    events: z.array(z.enum(EVENT_TYPE_NAMES)).nullable(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    createdAt: time,
    paused: z.boolean().meta({ description: 'paused: events are held in its backlog and delivered, in order, on resume' }),
    pausedAt: time.nullable(),
    backlog: z.int().nonnegative().optional().meta({ description: 'events held while paused (on GET, pause and resume)' }),
  })
  .meta({ id: 'Subscription' });
export const CreatedSubscription = Subscription.extend({ secret: z.string().meta({ description: 'whsec_…, shown once' }) }).meta({ id: 'CreatedSubscription' });
export const SubscriptionList = z.object({ subscriptions: z.array(Subscription) }).meta({ id: 'SubscriptionList' });
/** The body of an action that takes no fields (pause, resume): may be omitted. */
export const NoBody = z.object({}).meta({ id: 'NoBody', description: 'no fields; the body may be omitted' });
export const ResumedSubscription = Subscription.extend({
  released: z.int().nonnegative().meta({ description: 'held events handed back to delivery, oldest first' }),
}).meta({ id: 'ResumedSubscription' });
export const RemovedSubscription = z.object({ id: z.string(), deleted: z.literal(true) }).meta({ id: 'RemovedSubscription' });
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'dead'] as const;
export const Delivery = z
  .object({
    eventId: z.string(),
    attempt: z.int().nonnegative(),
    status: z.enum(DELIVERY_STATUSES),
    responseStatus: z.int().nullable(),
    at: time,
    nextAttemptAt: time.nullable(),
    error: z.string().optional(),
  })
  .meta({ id: 'Delivery' });
export const DeliveryList = z.object({ deliveries: z.array(Delivery) }).meta({ id: 'DeliveryList' });
export const ReplayBody = z
  .object({ eventIds: z.array(z.string()).max(10_000).optional(), since: z.string().optional() })
  .strict()
  .meta({ id: 'ReplayRequest' });
export const ReplayResult = z
  .object({
    replayed: z.int().nonnegative(),
    eventIds: z.array(z.string()),
    alreadyQueued: z.array(z.string()).optional().meta({ description: 'matching events left out because their delivery is still queued or waiting for a retry' }),
  }).meta({ id: 'ReplayResult' });

export const ClaimBody = z
  .object({ queue: z.string().startsWith('/'), leaseSeconds: z.number().positive().max(86_400).optional() })
  .strict()
  .meta({ id: 'ClaimRequest', examples: [{ queue: '/demo/queue', leaseSeconds: 60 }] });
export const HeartbeatBody = z
  .object({ path: z.string(), fencingToken: z.number().int().positive(), leaseSeconds: z.number().positive().max(86_400).optional() })
  .strict()
  .meta({ id: 'HeartbeatRequest' });
export const CompleteBody = z
  .object({ path: z.string(), fencingToken: z.number().int().positive(), result: z.unknown().optional() })
  .strict()
  .meta({ id: 'CompleteRequest' });
export const FailBody = z
  .object({ path: z.string(), fencingToken: z.number().int().positive(), retry: z.boolean().optional(), reason: z.string().max(10_000).optional() })
  .strict()
  .meta({ id: 'FailRequest' });
export const ClaimedTicket = z
  .object({ path: nsPath, content: z.string(), fencingToken: z.int().positive(), leaseExpiresAt: time, attempt: z.int().positive() })
  .meta({ id: 'ClaimedTicket' });
export const HeartbeatResult = z.object({ path: nsPath, fencingToken: z.int().positive(), leaseExpiresAt: time }).meta({ id: 'HeartbeatResult' });
export const CompleteResult = z.object({ path: nsPath, fencingToken: z.int().positive(), result: z.string().nullable() }).meta({ id: 'CompleteResult' });
export const FailResult = z.object({ path: nsPath, retried: z.boolean(), attempt: z.int().nullable() }).meta({ id: 'FailResult' });

export const Health = z.object({ ok: z.boolean() }).meta({ id: 'Health' });
export const Readiness = z
  .object({
    ok: z.boolean(),
    redis: z.string(),
    workspaces: z.record(z.string(), z.string()),
    warnings: z.array(z.string()).optional().meta({ description: 'configuration that starts but is likely a mistake, e.g. no workspaces loaded' }),
  })
  .meta({ id: 'Readiness' });

export type WriteResult = z.infer<typeof WriteResult>;
export type DeleteResult = z.infer<typeof DeleteResult>;
export type ListEntry = z.infer<typeof ListEntry>;
export type ListPage = z.infer<typeof ListPage>;
export type LineMatch = z.infer<typeof LineMatch>;
export type SearchResult = z.infer<typeof SearchResult>;
export type SearchPage = z.infer<typeof SearchPage>;
export type MoveResult = z.infer<typeof MoveResult>;
export type VersionInfo = z.infer<typeof VersionInfo>;
export type VersionList = z.infer<typeof VersionList>;
export type RestoreResult = z.infer<typeof RestoreResult>;
export type RateLimits = z.infer<typeof RateLimits>;
export type NewKey = z.infer<typeof NewKeyBody>;
export type KeyRecord = z.infer<typeof KeyRecord>;
export type CreatedKey = z.infer<typeof CreatedKey>;
export type KeyList = z.infer<typeof KeyList>;
export type WorkspaceInfo = z.infer<typeof WorkspaceInfo>;
export type WorkspaceList = z.infer<typeof WorkspaceList>;
export type AuditEntry = z.infer<typeof AuditEntry>;
export type AuditPage = z.infer<typeof AuditPage>;
export type AuditVerifyResult = z.infer<typeof AuditVerifyResult>;
export type EventType = (typeof EVENT_TYPE_NAMES)[number];
export type BatonEvent = z.infer<typeof BatonEvent>;
export type EventPage = z.infer<typeof EventPage>;
export type NewSubscription = z.infer<typeof NewSubscriptionBody>;
export type Subscription = z.infer<typeof Subscription>;
export type CreatedSubscription = z.infer<typeof CreatedSubscription>;
export type SubscriptionList = z.infer<typeof SubscriptionList>;
export type ResumedSubscription = z.infer<typeof ResumedSubscription>;
export type RemovedSubscription = z.infer<typeof RemovedSubscription>;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type Delivery = z.infer<typeof Delivery>;
export type DeliveryList = z.infer<typeof DeliveryList>;
export type ReplayResult = z.infer<typeof ReplayResult>;
export type ClaimedTicket = z.infer<typeof ClaimedTicket>;
export type HeartbeatResult = z.infer<typeof HeartbeatResult>;
export type CompleteResult = z.infer<typeof CompleteResult>;
export type FailResult = z.infer<typeof FailResult>;
export type Health = z.infer<typeof Health>;
export type Readiness = z.infer<typeof Readiness>;
export type GateDecisionBody = z.infer<typeof GateDecisionBody>;
export type GateDecision = z.infer<typeof GateDecision>;
export type GateList = z.infer<typeof GateList>;
