import type { BatonPath } from '../core/paths.js';
import type { AppendOptions } from '../events/event-log.js';
import { newEvent, type BatonEvent, type NewEvent } from '../events/event.js';
import type { EntryMeta, ObservedState, ObserveContext, StorageDriver } from './driver.js';
import type { WorkspaceDefinition } from '../workspaces/definition.js';

/**
 * The event that reports what a watcher or reconciler observed at a path, or null if its last
 * event already describes it: a file whose etag differs from the index is created or updated, a
 * path the index knows but storage no longer has is deleted.
 */
function observedEvent(
  def: WorkspaceDefinition,
  p: BatonPath,
  indexed: string | null,
  observed: { entry: EntryMeta | null; actor: string; deletedVersion: number | null },
): { input: NewEvent; opts: AppendOptions } | null {
  const { entry, actor } = observed;
  if (entry) {
    if (indexed === entry.etag) return null;
    return { input: newEvent(indexed ? 'file.updated' : 'file.created', def, entry, actor), opts: { index: 'set', onlyIfChanged: true } };
  }
  if (indexed === null) return null;
  const gone = { path: p.full, mimeType: null, size: 0, etag: null, version: observed.deletedVersion };
  return { input: newEvent('file.deleted', def, gone, actor), opts: { index: 'del', onlyIfChanged: true } };
}

/**
 * Judge a path an observer saw change, holding the path's lock (the lock Baton's own writes
 * hold until their event is recorded), and report it if its last event does not already
 * describe it. So a Baton write is never re-reported, and a change seen twice (a notification
 * and a rescan, or two replicas in turn) is reported once. The version log records the change
 * first, durably, so the next version gets the next number, foreign bytes stay restorable, and
 * a crash between the two leaves a record the next look reports, never an event without one.
 */
export function reportOutsideChange(driver: StorageDriver, ctx: ObserveContext, p: BatonPath): Promise<BatonEvent | null> {
  return driver.withPathLock([p], async () => {
    const [state, indexed] = await Promise.all([driver.observedState(p), ctx.events.indexed(ctx.def.name, p.full)]);
    if (!state) return null;
    const ev = observedEvent(ctx.def, p, indexed, state);
    if (!ev) return null;
    await driver.noteOutsideChanges([{ path: p, state }]);
    return ctx.recorder.emit(ev.input, ev.opts);
  });
}

/**
 * `reportOutsideChange` for a burst of paths (distinct, of one workspace), judged by the same
 * rule under the same locks, all held at once: one index lookup and one event append for the
 * whole batch, one noting of their versions (the logs' appends all in flight at once, each
 * path's log being its own file), and one enqueue of their deliveries, rather than a round
 * trip of each per path.
 * The locks are taken in one sorted order, as every multi-path holder takes them, so batches
 * and moves cannot wait on each other in a cycle. Returns the events recorded.
 */
export function reportOutsideChanges(driver: StorageDriver, ctx: ObserveContext, paths: readonly BatonPath[]): Promise<BatonEvent[]> {
  if (paths.length === 0) return Promise.resolve([]);
  return driver.withPathLock(paths, async () => {
    const [states, indexed] = await Promise.all([
      Promise.all(paths.map((p) => driver.observedState(p))),
      ctx.events.indexedMany(
        ctx.def.name,
        paths.map((p) => p.full),
      ),
    ]);
    const judged: Array<{ path: BatonPath; state: ObservedState; ev: { input: NewEvent; opts: AppendOptions } }> = [];
    paths.forEach((path, i) => {
      const state = states[i];
      const ev = state ? observedEvent(ctx.def, path, indexed[i] ?? null, state) : null;
      if (state && ev) judged.push({ path, state, ev });
    });
    await driver.noteOutsideChanges(judged);
    const events = await ctx.recorder.emitMany(judged.map((j) => j.ev));
    return events.filter((e): e is BatonEvent => e !== null);
  });
}
