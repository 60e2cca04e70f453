/**
 * 5. MCP per-call latency: Baton through `baton mcp` (stdio, relaying to the server's `/mcp`) and
 * through Streamable HTTP `/mcp`, against the reference `@modelcontextprotocol/server-filesystem`
 * over stdio (the floor) on the same files, driven by the same SDK client, one call at a time:
 * read_text_file (4 KiB), write_file (new 1 KiB file), list_directory and search_files on a
 * folder of 1,000 files (quick mode: 200). Each transport's own floor is measured too: no-op
 * tools of the same names, answering texts of the same size, over stdio and over Streamable
 * HTTP (bench/lib/mcp-noop.ts); each Baton row gets a sub-row against it (Baton stdio goes
 * stdio → `baton mcp` → `/mcp` over HTTP → server, so its transport floor is both hops). The
 * files are made on disk before Baton starts and the bench waits (bounded) for Baton's start-up
 * reconcile to report them before timing anything.
 * The same code runs standalone as `node --import tsx bench/mcp.ts` (bench/lib/mcp.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Ctx } from './run.js';
import { makeMcpFiles, mcpOps, openMcpTargets, timeCalls, type TargetId } from './lib/mcp.js';
import { lat, ratio, type Row, type Section } from './lib/report.js';
import { startStack } from './lib/stack.js';
import { msSince, now, sleep, summarize, type Summary } from './lib/stats.js';

type L = ReturnType<typeof lat>;

export async function mcpLatency(ctx: Ctx): Promise<Section> {
  const nFiles = ctx.quick ? 200 : 1_000;
  const warmup = ctx.quick ? 3 : 20;
  const ops = mcpOps(nFiles, ctx.quick ? { read: 20, write: 20, list: 5, search: 5 } : { read: 200, write: 200, list: 50, search: 50 });
  const scope = ctx.scope.child();
  try {
    // launchBaton's cleanup removes the data directory.
    const dataDir = mkdtempSync(join(tmpdir(), 'baton-bench-mcp-'));
    makeMcpFiles(dataDir, nFiles);
    const stack = await startStack(scope, { dataDir });
    // Let the start-up reconcile of the pre-made files finish first (bounded), so it does not run during the calls.
    const seqOf = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    scope.defer('redis client', () => void seqOf.disconnect());
    const tRec = now();
    while (Number((await seqOf.get('baton:ev:demo:seq')) ?? 0) < nFiles + 1 && msSince(tRec) < 30_000) await sleep(100);
    const reconcileMs = msSince(tRec);

    ctx.log('  mcp: connecting reference (stdio), no-op tools (stdio, HTTP), Baton (stdio), Baton (HTTP)');
    const targets = await openMcpTargets(stack.baton.url, stack.key, nFiles, (what, fn) => scope.defer(what, fn), 'ignore');
    const results: Record<string, Partial<Record<TargetId, Summary>>> = {};
    for (const op of ops) {
      ctx.log(`  mcp: ${op.tool}, ${op.calls} calls per target`);
      results[op.tool] = {};
      for (const t of targets) results[op.tool]![t.id] = summarize(await timeCalls(t, op, warmup));
    }

    const what: Record<string, string> = {
      read_text_file: 'read_text_file of a 4 KiB file',
      write_file: 'write_file of a new 1 KiB file',
      list_directory: `list_directory of a ${(nFiles + 1).toLocaleString('en-US')}-entry folder`,
      search_files: `search_files *42* in that folder`,
    };
    const ms = (x: number | null) => (x === null ? '—' : x.toFixed(2));
    const times = (x: number | null) => (x === null ? '—' : `${x.toFixed(2)}×`);
    /** The bar for `/mcp` against the reference server, per tool. */
    const TARGET: Record<string, { text: string; factor: number }> = {
      read_text_file: { text: '≤ 1.5× the reference', factor: 1.5 },
      write_file: { text: '≤ 2× the reference', factor: 2 },
      list_directory: { text: '≤ 2× the reference', factor: 2 },
      search_files: { text: '≥ 10× faster than the reference', factor: 0.1 },
    };
    const sum = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
    const rows: Row[] = [];
    for (const op of ops) {
      const r = results[op.tool]!;
      const [ref, nstdio, nhttp, bstdio, bhttp] = (['ref', 'nstdio', 'nhttp', 'bstdio', 'bhttp'] as const).map((id) => lat(r[id]!)) as [L, L, L, L, L];
      // Both hops of `baton mcp`; the p99 is the sum of the two p99s, as for section 1's floor.
      const bothHops = { p50: sum(nstdio.p50, nhttp.p50), p99: sum(nstdio.p99, nhttp.p99) };
      const noops = `no-op tool p50 · p99: stdio ${ms(nstdio.p50)} · ${ms(nstdio.p99)} ms, HTTP ${ms(nhttp.p50)} · ${ms(nhttp.p99)} ms`;
      rows.push(
        {
          group: '5',
          metric: `${what[op.tool]}, Baton stdio (baton mcp)`,
          unit: 'ms',
          baton: bstdio,
          floor: { ...ref, what: 'reference server, stdio' },
          target: `adds ≤ 0.5 ms to /mcp (adds ${bstdio.p50 !== null && bhttp.p50 !== null ? (bstdio.p50 - bhttp.p50).toFixed(2) : '—'} ms)`,
          met: bstdio.p50 !== null && bhttp.p50 !== null ? bstdio.p50 - bhttp.p50 <= 0.5 : null,
          note: `${op.calls} calls${ctx.quick ? ' (quick mode)' : ''}; ${noops}`,
        },
        {
          group: '5',
          metric: '\u00a0\u00a0↳ transport floor: no-op tool, stdio + HTTP',
          unit: 'ms',
          baton: bstdio,
          floor: { ...bothHops, what: 'no-op tool over stdio + no-op tool over HTTP' },
          note: `Baton stdio / (no-op stdio + no-op HTTP) = ${times(ratio(bstdio.p50, bothHops.p50))} (p50)`,
        },
        {
          group: '5',
          metric: '↳ same, Baton HTTP (/mcp)',
          unit: 'ms',
          baton: bhttp,
          floor: { ...ref, what: 'reference server, stdio' },
          target: TARGET[op.tool]!.text,
          met: bhttp.p50 !== null && ref.p50 !== null ? bhttp.p50 <= TARGET[op.tool]!.factor * ref.p50 : null,
        },
        {
          group: '5',
          metric: '\u00a0\u00a0↳ transport floor: no-op tool, HTTP',
          unit: 'ms',
          baton: bhttp,
          floor: { ...nhttp, what: 'no-op tool over HTTP' },
          note: `Baton HTTP / no-op HTTP = ${times(ratio(bhttp.p50, nhttp.p50))} (p50)`,
        },
      );
    }
    const title = `5. MCP per-call latency vs @modelcontextprotocol/server-filesystem, ${(nFiles + 1).toLocaleString('en-US')}-entry folder${ctx.quick ? ' (quick mode; full run: 1,001)' : ''}`;
    return { id: 'mcp', title, rows, details: { nFiles, warmup, reconcileMs, calls: Object.fromEntries(ops.map((o) => [o.tool, o.calls])), results } };
  } finally {
    await scope.close();
  }
}
