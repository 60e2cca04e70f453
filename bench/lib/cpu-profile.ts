/** Reading a process's CPU time and summarizing a V8 CPU profile, for the profiling scripts. */
import { readFileSync } from 'node:fs';

/** CPU ms (user + system) a process has used so far. */
export function cpuMs(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks are 100 Hz on Linux
}

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which package (or Baton module, or Node internal) a frame belongs to. */
function moduleOf(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? '(gc)' : fn.startsWith('(') ? fn : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const d = url.indexOf('/dist/');
  if (d >= 0) return `baton:${url.slice(d + 6)}`;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

/**
 * Self and total time per function and self time per module, of the samples in [from, to] (µs,
 * monotonic); and `owners`: each sample charged to the innermost Baton function on its stack
 * (what Baton code asked for that time, libraries and syscalls included), or to the leaf's
 * module when no Baton frame is on it (the event loop, a library's own timers).
 */
export function summarizeProfile(p: CpuProfile, from: number, to: number, limits: Partial<Record<'self' | 'total' | 'modules' | 'owners', number>> = {}) {
  const most = { self: 20, total: 25, modules: 15, owners: 30, ...limits };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const mods = new Map<string, number>();
  const owners = new Map<string, number>();
  let t = p.startTime;
  let busy = 0;
  let all = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < from || t > to) continue;
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i]!) / 1000;
    const node = byId.get(p.samples[i]!)!;
    const name = (n: ProfileNode) => `${n.callFrame.functionName || '(anon)'} ${moduleOf(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`;
    all += dt;
    if (node.callFrame.functionName === '(idle)') continue;
    busy += dt;
    self.set(name(node), (self.get(name(node)) ?? 0) + dt);
    mods.set(moduleOf(node.callFrame.url, node.callFrame.functionName), (mods.get(moduleOf(node.callFrame.url, node.callFrame.functionName)) ?? 0) + dt);
    let owner: string | null = null;
    for (let id: number | undefined = node.id; id !== undefined && owner === null; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (moduleOf(n.callFrame.url, n.callFrame.functionName).startsWith('baton:')) owner = name(n);
    }
    owner ??= `(no Baton frame) ${moduleOf(node.callFrame.url, node.callFrame.functionName)}`;
    owners.set(owner, (owners.get(owner) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const k = name(byId.get(id)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .filter(([k]) => !k.startsWith('(root)') && !k.startsWith('(program)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n);
  return { busyMs: busy, wallMs: all, self: top(self, most.self), total: top(total, most.total), modules: top(mods, most.modules), owners: top(owners, most.owners) };
}
