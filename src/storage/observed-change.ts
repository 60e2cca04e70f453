import type { Recorder } from '../core/recorder.js';
import type { BatonPath } from '../core/paths.js';
import { newEvent, type BatonEvent } from '../events/event.js';
import type { EntryMeta, ObserveContext, StorageDriver } from './driver.js';
import type { WorkspaceDefinition } from '../workspaces/definition.js';

/**
 * Report what a watcher or reconciler observed at a path, if its last event does not already
 * describe it: a file whose etag differs from the index is created or updated, a path the index
 * knows but storage no longer has is deleted. Callers hold the path's lock and decide the actor.
 */
function emitObserved(
  recorder: Recorder,
  def: WorkspaceDefinition,
  p: BatonPath,
  indexed: string | null,
  observed: { entry: EntryMeta | null; actor: string; deletedVersion: number | null },
): Promise<BatonEvent | null> {
  const { entry, actor } = observed;
  if (entry) {
    if (indexed === entry.etag) return Promise.resolve(null);
    return recorder.emit(newEvent(indexed ? 'file.updated' : 'file.created', def, entry, actor), { index: 'set', onlyIfChanged: true });
  }
  if (indexed === null) return Promise.resolve(null);
  const gone = { path: p.full, mimeType: null, size: 0, etag: null, version: observed.deletedVersion };
  return recorder.emit(newEvent('file.deleted', def, gone, actor), { index: 'del', onlyIfChanged: true });
}

/**
 * Judge a path an observer saw change, holding the path's lock (the lock Baton's own writes
 * hold until their event is recorded), and report it if its last event does not already
 * describe it. So a Baton write is never re-reported, and a change seen twice (a notification
 * and a rescan, or two replicas in turn) is reported once. The version log then records the
 * change, so the next version gets the next number and foreign bytes stay restorable.
 */
export function reportOutsideChange(driver: StorageDriver, ctx: ObserveContext, p: BatonPath): Promise<BatonEvent | null> {
  return driver.withPathLock([p], async () => {
    const [state, indexed] = await Promise.all([driver.observedState(p), ctx.events.indexed(ctx.def.name, p.full)]);
    if (!state) return null;
    const event = await emitObserved(ctx.recorder, ctx.def, p, indexed, state);
    if (event) await driver.noteOutsideChange(p);
    return event;
  });
}
