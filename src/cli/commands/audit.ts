import type { Command } from 'commander';
import type { AuditEntry, AuditPage } from '../../client/index.js';
import { clientCommand, positiveInt, run } from './common.js';
import { dash, formatTime, line, printJson, table } from './output.js';

interface AuditFlags {
  actor?: string;
  action?: string;
  path?: string;
  since?: string;
  limit?: number;
  cursor?: string;
}

const PAGE_MAX = 1000;

export function registerAudit(program: Command): void {
  const audit = clientCommand(program, 'audit', 'read the audit trail (oldest first, following cursors)')
    .option('--actor <actor>', 'only this actor, e.g. agent:writer')
    .option('--action <action>', 'only this action, e.g. file.write')
    .option('--path <path>', 'only this path and what lies under it')
    .option('--since <iso>', 'only entries at or after this time')
    .option('--limit <n>', 'at most this many entries (default: all)', positiveInt)
    .option('--cursor <cursor>', 'continue after a cursor an earlier --json answer gave')
    .action(
      run<AuditFlags>(async ({ opts, json, client }) => {
        const c = client();
        const entries: AuditEntry[] = [];
        let cursor = opts.cursor ?? null;
        do {
          const want = opts.limit === undefined ? PAGE_MAX : Math.min(PAGE_MAX, opts.limit - entries.length);
          const page: AuditPage = await c.audit.query({
            actor: opts.actor,
            action: opts.action,
            path: opts.path,
            since: opts.since,
            limit: want,
            cursor: cursor ?? undefined,
          });
          entries.push(...page.entries);
          cursor = page.cursor;
        } while (cursor !== null && (opts.limit === undefined || entries.length < opts.limit));
        if (json) return printJson({ entries, cursor });
        if (entries.length === 0) return line('no audit entries');
        table(
          [{ header: 'SEQ', right: true }, 'TIME', 'ACTOR', 'ACTION', 'OUTCOME', 'PATH'],
          entries.map((e) => [String(e.seq), formatTime(e.time), e.actor, e.action, e.outcome === 'denied' ? `denied (${e.code ?? '?'})` : e.outcome, dash(e.path)]),
        );
      }),
    );

  clientCommand(audit, 'verify', 'walk the hash chain; exit 1 at the first broken entry (admin)').action(
    run(async ({ json, client }) => {
      const out = await client().audit.verify();
      if (json) printJson(out);
      else if (out.ok) line(`audit chain ok: ${out.entries} entries`);
      else line(`audit chain broken at seq ${out.firstBad.seq}: ${out.reason}`);
      return out.ok ? 0 : 1;
    }),
  );
}
