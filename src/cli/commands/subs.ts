import { InvalidArgumentError, Option, type Command } from 'commander';
import type { DeliveryStatus, EventType, Subscription } from '../../client/index.js';
import { EVENT_TYPE_NAMES } from '../../api/schemas.js';
import { clientCommand, collect, group, run, UsageError } from './common.js';
import { dash, formatTime, line, printJson, table } from './output.js';

const DELIVERY_STATUSES: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'dead'];

/** `--event`: a known type, repeatable. */
function eventType(value: string, previous: EventType[] = []): EventType[] {
  if (!(EVENT_TYPE_NAMES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${EVENT_TYPE_NAMES.join(', ')}`);
  return [...previous, value as EventType];
}

function state(s: Subscription): string {
  if (!s.enabled) return `disabled${s.disabledReason ? ` (${s.disabledReason})` : ''}`;
  return s.paused ? 'paused' : 'enabled';
}

export function registerSubs(program: Command): void {
  const subs = group(program, 'subs', 'webhook subscriptions: add, list, rm, pause, resume, deliveries, replay');

  clientCommand(subs, 'add [url]', 'subscribe URL to events; the signing secret is shown only once')
    .option('--path <glob>', 'a path glob, e.g. /demo/inbox/** (repeatable, at least one)', collect)
    .option('--event <type>', `only this event type (repeatable; default all): ${EVENT_TYPE_NAMES.join(', ')}`, eventType)
    .action(
      run<{ path?: string[]; event?: EventType[] }>(async ({ args, opts, json, client }) => {
        // --url is the Baton server's address on every client command, so `subs add --url HOOK`
        // quietly points the CLI at the receiver; say which is which.
        if (args[0] === undefined) {
          throw new UsageError('subs add needs the webhook URL as its first argument: baton subs add URL --path GLOB (--url is the Baton server\'s address)');
        }
        if (!opts.path?.length) throw new UsageError('subs add needs at least one --path GLOB');
        for (const p of opts.path) if (!p.startsWith('/')) throw new UsageError(`--path ${p}: a glob starts with /`);
        const created = await client().subscriptions.create({ url: args[0] as string, paths: opts.path, ...(opts.event ? { events: opts.event } : {}) });
        if (json) return printJson(created);
        table(
          ['FIELD', 'VALUE'],
          [
            ['id', created.id],
            ['url', created.url],
            ['paths', created.paths.join(' ')],
            ['events', created.events?.join(' ') ?? 'all'],
            ['secret', created.secret],
          ],
        );
        process.stderr.write('baton: keep the secret now; it is not shown again\n');
      }),
    );

  clientCommand(subs, 'list', 'list subscriptions (yours; all with the admin token)')
    .alias('ls')
    .action(
      run(async ({ json, client }) => {
        const out = await client().subscriptions.list();
        if (json) return printJson(out);
        if (out.subscriptions.length === 0) return line('no subscriptions');
        table(
          ['ID', 'STATE', 'CREATED', 'EVENTS', 'PATHS', 'URL'],
          out.subscriptions.map((s) => [s.id, state(s), formatTime(s.createdAt), s.events?.join(',') ?? 'all', s.paths.join(' '), s.url]),
        );
      }),
    );

  clientCommand(subs, 'rm <id>', 'delete a subscription and its delivery log')
    .alias('remove')
    .action(
      run(async ({ args, json, client }) => {
        const out = await client().subscriptions.remove(args[0] as string);
        if (json) return printJson(out);
        line(`removed ${out.id}`);
      }),
    );

  clientCommand(subs, 'pause <id>', 'hold deliveries: events are kept, in order, until resume')
    .action(
      run(async ({ args, json, client }) => {
        const out = await client().subscriptions.pause(args[0] as string);
        if (json) return printJson(out);
        line(`paused ${out.id} (${out.backlog ?? 0} held)`);
      }),
    );

  clientCommand(subs, 'resume <id>', 'deliver what was held while paused, oldest first, then go on live')
    .action(
      run(async ({ args, json, client }) => {
        const out = await client().subscriptions.resume(args[0] as string);
        if (json) return printJson(out);
        line(`resumed ${out.id}: ${out.released} held event${out.released === 1 ? '' : 's'} queued for delivery`);
      }),
    );

  clientCommand(subs, 'deliveries <id>', 'recent delivery attempts, newest first')
    .addOption(new Option('--status <status>', 'only attempts with this status').choices(DELIVERY_STATUSES))
    .action(
      run<{ status?: DeliveryStatus }>(async ({ args, opts, json, client }) => {
        const out = await client().subscriptions.deliveries(args[0] as string, { status: opts.status });
        if (json) return printJson(out);
        if (out.deliveries.length === 0) return line('no deliveries');
        table(
          ['AT', 'EVENT', { header: 'ATTEMPT', right: true }, 'STATUS', { header: 'HTTP', right: true }, 'NEXT', 'ERROR'],
          out.deliveries.map((d) => [formatTime(d.at), d.eventId, String(d.attempt), d.status, dash(d.responseStatus), formatTime(d.nextAttemptAt), dash(d.error)]),
        );
      }),
    );

  clientCommand(subs, 'replay <id>', 'deliver events again (dead-lettered ones included)')
    .option('--event-id <id>', 'an event to deliver again (repeatable)', collect)
    .option('--since <cursor>', 'every matching event after this cursor (0: every retained one)')
    .action(
      run<{ eventId?: string[]; since?: string }>(async ({ args, opts, json, client }) => {
        if (!opts.eventId?.length && opts.since === undefined) throw new UsageError('subs replay needs --event-id ID or --since CURSOR');
        const out = await client().subscriptions.replay(args[0] as string, { eventIds: opts.eventId, since: opts.since });
        if (json) return printJson(out);
        line(`replayed ${out.replayed} event${out.replayed === 1 ? '' : 's'}${out.replayed ? `: ${out.eventIds.join(' ')}` : ''}`);
        const waiting = out.alreadyQueued ?? [];
        if (waiting.length) line(`skipped ${waiting.length} still queued or waiting for a retry: ${waiting.join(' ')}`);
      }),
    );
}
