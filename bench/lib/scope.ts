/**
 * Resources to release, last in first out. Every child process, server, queue and temp dir a
 * measurement makes is registered here, so the run ends cleanly on success, error or Ctrl-C.
 */
export class Scope {
  private readonly stack: Array<{ name: string; fn: () => Promise<void> | void }> = [];
  private readonly children = new Set<Scope>();

  constructor(private readonly parent?: Scope) {
    parent?.children.add(this);
  }

  defer(name: string, fn: () => Promise<void> | void): void {
    this.stack.push({ name, fn });
  }

  child(): Scope {
    return new Scope(this);
  }

  async close(): Promise<void> {
    for (const c of [...this.children]) await c.close();
    while (this.stack.length > 0) {
      const { name, fn } = this.stack.pop()!;
      try {
        await withTimeout(Promise.resolve(fn()), 20_000, `cleanup ${name}`);
      } catch (err) {
        process.stderr.write(`bench: cleanup of ${name} failed: ${String(err)}\n`);
      }
    }
    this.parent?.children.delete(this);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
      timer.unref();
    }),
  ]);
}
