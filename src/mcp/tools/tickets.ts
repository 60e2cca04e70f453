import { z } from 'zod';
import { ClaimedTicket, CompleteResult, FailResult, HeartbeatResult } from '../../api/schemas.js';
import { defineJsonTool, mcpPath, type AnyTool } from './types.js';

/** The REST claim body, or `{ticket: null}` for an empty queue (an answer, not a refusal). */
const ClaimAnswer = z.union([ClaimedTicket, z.object({ ticket: z.null() }).strict()]);

const ticketPath = () => z.string().describe('The ticket, as claim_ticket returned it (in the queue\'s in-progress/ folder)');
const fencingToken = () => z.number().int().positive().describe('The fencingToken claim_ticket returned');

const claimTicket = defineJsonTool({
  name: 'claim_ticket',
  title: 'Claim Ticket',
  description:
    'Take the oldest pending ticket of a queue folder (its pending/ subfolder) and lease it to this agent: the file moves to ' +
    'in-progress/ and no other agent gets it while the lease lasts. Returns {path,content,fencingToken,leaseExpiresAt,attempt}, ' +
    'or {ticket:null} when the queue is empty. Keep the fencingToken: heartbeat_ticket before the lease ends, then ' +
    'complete_ticket or fail_ticket.',
  input: {
    queue: z.string().describe('The queue folder, e.g. /demo/tasks (tickets wait in /demo/tasks/pending)'),
    leaseSeconds: z.number().positive().max(86_400).optional().describe('How long the lease lasts (server default 300)'),
  },
  requires: ['claim'],
  annotations: { title: 'Claim Ticket', readOnlyHint: false, idempotentHint: false, destructiveHint: false, openWorldHint: false },
  output: ClaimAnswer,
  auditPath: (a) => (typeof a.queue === 'string' ? a.queue : null),
  run: async (args, { backend }) => {
    const input = { queue: mcpPath(args.queue), ...(args.leaseSeconds === undefined ? {} : { leaseSeconds: args.leaseSeconds }) };
    const ticket = await backend.run('claim_ticket', args.queue, (ops) => ops.claim(input));
    return ticket ?? { ticket: null };
  },
});

const heartbeatTicket = defineJsonTool({
  name: 'heartbeat_ticket',
  title: 'Heartbeat Ticket',
  description: 'Extend the lease of a ticket this agent holds, so it is not handed to another agent. Fails with conflict if the lease was lost.',
  input: {
    path: ticketPath(),
    fencingToken: fencingToken(),
    leaseSeconds: z.number().positive().max(86_400).optional().describe('New lease length from now (default: the claim\'s)'),
  },
  requires: ['claim'],
  annotations: { title: 'Heartbeat Ticket', readOnlyHint: false, idempotentHint: true, destructiveHint: false, openWorldHint: false },
  output: HeartbeatResult,
  run: (args, { backend }) => {
    const input = { path: mcpPath(args.path), fencingToken: args.fencingToken, ...(args.leaseSeconds === undefined ? {} : { leaseSeconds: args.leaseSeconds }) };
    return backend.run('heartbeat_ticket', args.path, (ops) => ops.heartbeat(input));
  },
});

const completeTicket = defineJsonTool({
  name: 'complete_ticket',
  title: 'Complete Ticket',
  description: 'Finish a ticket: it moves to the queue\'s done/ folder, with `result` (any JSON) saved beside it. Fails with conflict if the lease was lost.',
  input: { path: ticketPath(), fencingToken: fencingToken(), result: z.union([z.record(z.string(), z.unknown()), z.array(z.unknown()), z.string(), z.number(), z.boolean(), z.null()]).optional().describe('What came of it (any JSON)') },
  requires: ['claim'],
  annotations: { title: 'Complete Ticket', readOnlyHint: false, idempotentHint: false, destructiveHint: false, openWorldHint: false },
  output: CompleteResult,
  run: (args, { backend }) => {
    const input = { path: mcpPath(args.path), fencingToken: args.fencingToken, ...(args.result === undefined ? {} : { result: args.result }) };
    return backend.run('complete_ticket', args.path, (ops) => ops.complete(input));
  },
});

const failTicket = defineJsonTool({
  name: 'fail_ticket',
  title: 'Fail Ticket',
  description:
    'Give a ticket up: with retry=true it goes back to pending/ for another attempt (while attempts remain), otherwise to ' +
    'failed/ with `reason` saved beside it. Fails with conflict if the lease was lost.',
  input: {
    path: ticketPath(),
    fencingToken: fencingToken(),
    retry: z.boolean().optional().describe('Put it back in the queue for another attempt'),
    reason: z.string().max(10_000).optional().describe('Why it failed'),
  },
  requires: ['claim'],
  annotations: { title: 'Fail Ticket', readOnlyHint: false, idempotentHint: false, destructiveHint: false, openWorldHint: false },
  output: FailResult,
  run: (args, { backend }) => {
    const input = {
      path: mcpPath(args.path),
      fencingToken: args.fencingToken,
      ...(args.retry === undefined ? {} : { retry: args.retry }),
      ...(args.reason === undefined ? {} : { reason: args.reason }),
    };
    return backend.run('fail_ticket', args.path, (ops) => ops.fail(input));
  },
});

export const ticketTools: AnyTool[] = [claimTicket, heartbeatTicket, completeTicket, failTicket];
