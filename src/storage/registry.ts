import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { StorageBackend } from './backend.js';
import type { StorageDriver } from './driver.js';
import { VersionedStore } from './versioned-store.js';

/** What drivers may share with the rest of Baton: Redis, for arbitration where storage has none. */
export interface DriverDeps {
  redis: Redis;
}

/**
 * A storage driver as the rest of Baton sees it: a name (the `storage.driver` of a workspace
 * file), the schema of its `storage:` block, and a factory for its backend. The store with all
 * version semantics is the same for every driver.
 */
export interface DriverRegistration<S extends z.ZodObject = z.ZodObject> {
  name: string;
  /** The `storage:` block of a workspace file, without `driver`; unknown keys are errors. */
  configSchema: S;
  /** Settle what the file may leave out or give relatively (a root under the data directory). */
  resolve?(config: z.output<S>, ctx: { workspace: string; dataDir: string }): z.output<S>;
  /**
   * The backend for one workspace. It may be a promise, so a driver whose dependencies are heavy
   * (an SDK) loads them only when a workspace uses it; the store waits for it in `init`.
   */
  createBackend(workspace: string, config: z.output<S>, deps: DriverDeps): StorageBackend | Promise<StorageBackend>;
}

/** A registration with its config type checked where it is written, kept untyped in the list. */
export function defineDriver<S extends z.ZodObject>(reg: DriverRegistration<S>): DriverRegistration {
  return reg as unknown as DriverRegistration;
}

/** A workspace's `storage:` block after validation: the driver's name and its settled config. */
export type StorageConfig = { driver: string } & Record<string, unknown>;

export class DriverRegistry {
  private readonly byName = new Map<string, DriverRegistration>();

  constructor(
    registrations: readonly DriverRegistration[],
    /** The driver of a workspace file that names none. */
    readonly defaultDriver: string,
  ) {
    for (const r of registrations) this.byName.set(r.name, r);
    if (!this.byName.has(defaultDriver)) throw new Error(`default storage driver ${defaultDriver} is not registered`);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The schema of a `storage:` block: one strict object per driver, told apart by `driver`. */
  schema() {
    const options = [...this.byName.values()].map((r) => r.configSchema.extend({ driver: z.literal(r.name) }).strict());
    const [first, ...rest] = options;
    return z.discriminatedUnion('driver', [first!, ...rest]);
  }

  /** A validated block (or none) with the driver's defaults and relative settings settled. */
  settle(block: StorageConfig | undefined, ctx: { workspace: string; dataDir: string }): StorageConfig {
    const r = this.get(block?.driver ?? this.defaultDriver);
    const { driver: _driver, ...rest } = block ?? {};
    const config = r.configSchema.parse(rest) as Record<string, unknown>;
    return { driver: r.name, ...(r.resolve ? (r.resolve(config, ctx) as Record<string, unknown>) : config) };
  }

  create(workspace: string, storage: StorageConfig, deps: DriverDeps): StorageDriver {
    const r = this.get(storage.driver);
    const { driver: _driver, ...config } = storage;
    return new VersionedStore(workspace, r.name, r.createBackend(workspace, config, deps));
  }

  private get(name: string): DriverRegistration {
    const r = this.byName.get(name);
    if (!r) throw new Error(`unknown storage driver ${JSON.stringify(name)}; known: ${this.names.join(', ')}`);
    return r;
  }
}
