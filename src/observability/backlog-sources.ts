/**
 * Work that has been noticed but not yet done, reported by whoever holds it (the folder watcher,
 * the S3 reconciler) without that code knowing about Prometheus: it registers a function that
 * counts its backlog, and `/metrics` calls it on each scrape. Nothing is counted on the hot path.
 */
const sources = new Map<string, () => number>();

/**
 * Report a backlog under `name` (one per workspace, say) until the returned function is called.
 * A later registration under the same name replaces the earlier one; the earlier one's
 * unregister then does nothing, so a watcher restarted before the old one stopped stays counted.
 */
export function registerBacklogSource(name: string, read: () => number): () => void {
  sources.set(name, read);
  return () => {
    if (sources.get(name) === read) sources.delete(name);
  };
}

/** Each registered backlog as it is now; a source that throws is left out rather than failing the scrape. */
export function readBacklogs(): Array<{ name: string; value: number }> {
  const out: Array<{ name: string; value: number }> = [];
  for (const [name, read] of sources) {
    try {
      const value = read();
      if (Number.isFinite(value)) out.push({ name, value });
    } catch {
      continue;
    }
  }
  return out;
}
