import { InvalidArgumentError, type Command } from 'commander';
import type { KeyRecord } from '../../client/index.js';
import { parseNewGrant } from '../../auth/grants.js';
import { clientCommand, collect, group, positiveInt, run, UsageError } from './common.js';
import { dash, formatTime, line, printJson, table } from './output.js';

function status(k: KeyRecord): string {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && Date.parse(k.expiresAt) <= Date.now()) return 'expired';
  return 'active';
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number above 0');
  return n;
}

function limitsText(l: KeyRecord['limits']): string {
  if (!l) return 'none';
  const parts = [l.requestsPerSecond && `${l.requestsPerSecond}/s`, l.burst && `burst ${l.burst}`, l.bytesPerDay && `${l.bytesPerDay} B/day`];
  return parts.filter(Boolean).join(', ') || 'none';
}

export function registerKeys(program: Command): void {
  const keys = group(program, 'keys', 'create, list and revoke agent keys (admin)');

  clientCommand(keys, 'create', 'create a key; its secret is shown only once')
    .requiredOption('--agent <name>', 'the agent the key belongs to')
    .option('--grant <action:glob>', 'a grant, e.g. read:/demo/** (repeatable)', collect)
    .option('--human', 'a human key (may write into gated folders)')
    .option('--expires <iso>', 'expiry time, ISO 8601')
    .option('--limit-rps <n>', 'at most this many requests per second', positiveNumber)
    .option('--limit-burst <n>', 'requests allowed at once above the rate (default: the rate)', positiveInt)
    .option('--limit-bytes-per-day <n>', 'at most this many bytes written per day (UTC)', positiveInt)
    .action(
      run<{ agent: string; grant?: string[]; human?: boolean; expires?: string; limitRps?: number; limitBurst?: number; limitBytesPerDay?: number }>(async ({ opts, json, client }) => {
        for (const g of opts.grant ?? []) {
          try {
            parseNewGrant(g);
          } catch (err) {
            throw new UsageError(`--grant ${(err as Error).message.replace(/^grant "[^"]*": /, `${g}: `)} (expected ACTION:GLOB, e.g. read:/demo/**)`);
          }
        }
        const limits = {
          ...(opts.limitRps !== undefined ? { requestsPerSecond: opts.limitRps } : {}),
          ...(opts.limitBurst !== undefined ? { burst: opts.limitBurst } : {}),
          ...(opts.limitBytesPerDay !== undefined ? { bytesPerDay: opts.limitBytesPerDay } : {}),
        };
        let expiresAt: string | undefined;
        if (opts.expires !== undefined) {
          const t = Date.parse(opts.expires);
          if (Number.isNaN(t)) throw new UsageError(`--expires ${opts.expires}: not an ISO 8601 time`);
          expiresAt = new Date(t).toISOString();
        }
        const created = await client().keys.create({
          agent: opts.agent,
          grants: opts.grant ?? [],
          ...(opts.human ? { human: true } : {}),
          ...(expiresAt ? { expiresAt } : {}),
          ...(Object.keys(limits).length ? { limits } : {}),
        });
        for (const w of created.warnings ?? []) process.stderr.write(`baton: warning: ${w}\n`);
        if (json) return printJson(created);
        table(
          ['FIELD', 'VALUE'],
          [
            ['id', created.id],
            ['agent', created.agent],
            ['human', created.human ? 'yes' : 'no'],
            ['expires', created.expiresAt ? formatTime(created.expiresAt) : 'never'],
            ['grants', created.grants.join(' ') || '(none)'],
            ['limits', limitsText(created.limits)],
            ['key', created.key],
          ],
        );
        process.stderr.write('baton: keep the key now; it is not shown again\n');
      }),
    );

  clientCommand(keys, 'list', 'list keys (never their secrets)')
    .alias('ls')
    .action(
      run(async ({ json, client }) => {
        const out = await client().keys.list();
        if (json) return printJson(out);
        if (out.keys.length === 0) return line('no keys');
        table(
          ['ID', 'AGENT', 'HUMAN', 'STATUS', 'CREATED', 'EXPIRES', 'GRANTS'],
          out.keys.map((k) => [k.id, k.agent, k.human ? 'yes' : 'no', status(k), formatTime(k.createdAt), dash(k.expiresAt && formatTime(k.expiresAt)), k.grants.join(' ')]),
        );
      }),
    );

  clientCommand(keys, 'revoke <id>', 'revoke a key; it fails on its next request')
    .action(
      run(async ({ args, json, client }) => {
        const out = await client().keys.revoke(args[0] as string);
        if (json) return printJson(out);
        line(`revoked ${out.id} (agent ${out.agent})`);
      }),
    );
}
