import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { BatonError } from '../core/errors.js';
import type { BatonPath } from '../core/paths.js';
import type { StorageDriver } from '../storage/driver.js';
import { dirExists, listDir, readText, watchDir, writeTextAtomic } from '../storage/local/host-files.js';
import { checkWorkspaceText, WorkspaceFileError } from './check.js';
import { toDefinition, type WorkspaceDefinition } from './definition.js';

export interface Workspace {
  def: WorkspaceDefinition;
  driver: StorageDriver;
}

const YAML_FILE = /\.ya?ml$/;

/**
 * The live set of workspaces, read from `<workspacesDir>/*.yaml` and re-read when those files
 * change. A file that fails to parse is reported and its last good definition kept, so a typo
 * in one workspace never takes the others down.
 */
export class WorkspaceRegistry {
  private readonly byName = new Map<string, Workspace>();
  private watcher: FSWatcher | null = null;
  private reloading: Promise<void> = Promise.resolve();
  private folderExists = true;

  constructor(
    readonly dir: string,
    private readonly dataDir: string,
    private readonly log: Logger,
    /** Called after a workspace is (re)loaded, e.g. to sync its declared subscriptions. */
    private readonly makeDriver: (def: WorkspaceDefinition) => StorageDriver,
    private readonly onLoaded: (def: WorkspaceDefinition) => Promise<void> = async () => undefined,
  ) {}

  async start(opts: { watch: boolean }): Promise<void> {
    await this.reload();
    if (opts.watch) {
      let timer: NodeJS.Timeout | null = null;
      this.watcher = watchDir(this.dir, () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void this.reload(), 50);
      });
    }
  }

  /** Reloads are serialized so two quick edits cannot interleave their driver swaps. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadNow()).catch((err) => this.log.error({ err }, 'workspace reload failed'));
    return this.reloading;
  }

  private async reloadNow(): Promise<void> {
    const seen = new Set<string>();
    this.folderExists = await dirExists(this.dir);
    for (const file of (await listDir(this.dir)).filter((f) => YAML_FILE.test(f))) {
      const source = join(this.dir, file);
      let def: WorkspaceDefinition;
      try {
        const text = await readText(source);
        if (text === null) continue;
        def = checkWorkspaceText(text, source, this.dataDir);
      } catch (err) {
        const kept = [...this.byName.values()].find((ws) => ws.def.source === source);
        if (kept) seen.add(kept.def.name);
        const what = err instanceof WorkspaceFileError ? err.message : `${source}: ${String(err)}`;
        // One line a person can act on, on stderr as well as in the JSON log, which few read.
        const outcome = kept ? `keeping the last good definition of ${kept.def.name}` : 'workspace not loaded';
        process.stderr.write(`baton: invalid workspace file ${what} (${outcome})\n`);
        this.log.error({ file: source, err: what }, `invalid workspace definition; ${outcome}`);
        continue;
      }
      if (seen.has(def.name)) {
        this.log.error({ file: source, workspace: def.name }, 'workspace declared twice; ignoring this file');
        continue;
      }
      seen.add(def.name);
      try {
        await this.upsert(def);
      } catch (err) {
        this.log.error({ workspace: def.name, err: String(err) }, 'workspace could not be opened');
      }
    }
    for (const [name, ws] of this.byName) {
      if (!seen.has(name)) {
        this.byName.delete(name);
        await ws.driver.close();
        this.log.info({ workspace: name }, 'workspace removed');
      }
    }
  }

  private async upsert(def: WorkspaceDefinition): Promise<void> {
    const prev = this.byName.get(def.name);
    if (prev && JSON.stringify(prev.def.storage) === JSON.stringify(def.storage)) {
      await prev.driver.init(def.folders);
      prev.def = def;
      await this.onLoaded(def);
      return;
    }
    const driver = this.makeDriver(def);
    await driver.init(def.folders);
    this.byName.set(def.name, { def, driver });
    if (prev) await prev.driver.close();
    await this.onLoaded(def);
    this.log.info({ workspace: def.name, driver: driver.name }, prev ? 'workspace updated' : 'workspace loaded');
  }

  /** Create a workspace through the admin API: written as YAML so every replica picks it up. */
  async create(raw: Record<string, unknown>): Promise<WorkspaceDefinition> {
    const name = typeof raw.name === 'string' ? raw.name : '';
    let def: WorkspaceDefinition;
    try {
      def = toDefinition(raw, name, this.dataDir, join(this.dir, `${name}.yaml`));
    } catch (err) {
      throw new BatonError('bad_request', `invalid workspace: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (this.byName.has(def.name)) throw new BatonError('conflict', `workspace ${def.name} already exists`);
    await writeTextAtomic(def.source!, toYaml(raw));
    await this.upsert(def);
    return def;
  }

  /** Why no workspace is loaded, for start-up warnings and /readyz; null when some are. */
  emptyReason(): string | null {
    if (this.byName.size > 0) return null;
    return this.folderExists
      ? `no workspaces: ${this.dir} holds no valid workspace file (*.yaml); run "baton init" or add one`
      : `no workspaces: the workspaces folder ${this.dir} does not exist (check --workspaces / BATON_WORKSPACES_DIR, or run "baton init")`;
  }

  get(name: string): Workspace | undefined {
    return this.byName.get(name);
  }

  /** The workspace a path lives in, or not_found. */
  resolve(p: BatonPath): Workspace {
    const ws = this.byName.get(p.workspace);
    if (!ws) throw new BatonError('not_found', `no workspace named ${p.workspace}`);
    return ws;
  }

  list(): Workspace[] {
    return [...this.byName.values()].sort((a, b) => (a.def.name < b.def.name ? -1 : 1));
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    await this.reloading;
    for (const ws of this.byName.values()) await ws.driver.close();
  }
}
