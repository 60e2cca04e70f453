import type { z } from 'zod';
import type { GateDecisionBody } from '../api/schemas.js';
import { authorize, can } from '../auth/authorize.js';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal, type OperationContext } from '../core/context.js';
import { BatonError } from '../core/errors.js';
import { basename, childPath, dirname, parsePath, type BatonPath } from '../core/paths.js';
import type { EntryMeta } from '../storage/driver.js';
import type { WorkspaceRegistry } from '../workspaces/registry.js';
import type { FileService } from './files.js';

/** Where a rejected item goes, inside the folder it waited in. */
export const REJECTED_FOLDER = 'rejected';
/** The most waiting items listed per gate. */
const WAITING_MAX = 500;

type Decision = z.infer<typeof GateDecisionBody>;

interface Review {
  gate: string;
  from: string[];
}

function isHuman(p: Principal): boolean {
  return p.kind === 'admin' || p.human === true;
}

/**
 * Human gates with a waiting list. A gate declared `{path, from}` gathers the files directly in
 * its `from` folders as items waiting for a decision. A human key decides: approving moves the
 * item into the gate; rejecting moves it to `<from>/rejected/<name>` (replacing an earlier
 * rejection of the same name, whose bytes stay in its versions), where the agent that drafted it
 * finds it. Each decision is one file.moved event carrying `review: {decision, gate, note}` and
 * one audit entry (`gate.approve` or `gate.reject`) carrying the note.
 *
 * Deciding needs a human key with `read` on the item and `write` on the gate: the right to put
 * things into the gate is the right to judge what waits for it, so a reviewer does not also need
 * `delete` on the drafts folder. The move itself is then made without a second authorization.
 */
export class GateService {
  constructor(
    private readonly workspaces: WorkspaceRegistry,
    private readonly files: FileService,
  ) {}

  private reviews(): Review[] {
    return this.workspaces.list().flatMap(({ def }) => def.reviews ?? []);
  }

  /** Each gate with a waiting list, and the items in it this key may read. */
  async waiting(ctx: OperationContext) {
    ctx.audit.action = 'gate.list';
    const p = requirePrincipal(ctx);
    const out = [];
    for (const r of this.reviews()) {
      const items: Array<Pick<EntryMeta, 'path' | 'size' | 'etag' | 'mimeType' | 'modifiedAt'>> = [];
      for (const from of r.from) {
        const dir = parsePath(from);
        const driver = this.workspaces.resolve(dir).driver;
        if ((await driver.stat(dir))?.type !== 'directory') continue;
        walk: for await (const batch of driver.walk(dir, { after: null, recursive: false, meta: true })) {
          for (const e of batch) {
            if (items.length >= WAITING_MAX) break walk;
            if (e.type !== 'file' || !can(p, 'read', e.path)) continue;
            const m = e.meta ?? (await driver.stat(e.path));
            if (m) items.push({ path: m.path, size: m.size, etag: m.etag, mimeType: m.mimeType, modifiedAt: m.modifiedAt });
          }
        }
      }
      out.push({ gate: r.gate, from: r.from, canDecide: isHuman(p) && can(p, 'write', childPath(parsePath(r.gate), 'item')), waiting: items });
    }
    return out;
  }

  async approve(ctx: OperationContext, input: Decision) {
    return this.decide(ctx, 'approved', input);
  }

  async reject(ctx: OperationContext, input: Decision) {
    if (!input.note?.trim()) throw new BatonError('bad_request', 'a rejection needs a note saying why, so the author can fix it: send {"note": "…"}');
    return this.decide(ctx, 'rejected', input);
  }

  private async decide(ctx: OperationContext, decision: 'approved' | 'rejected', input: Decision) {
    const item = parsePath(input.path);
    ctx.audit.action = decision === 'approved' ? 'gate.approve' : 'gate.reject';
    ctx.audit.path = item.full;
    const note = input.note?.trim() || undefined;
    if (note !== undefined) ctx.audit.note = note;
    const p = requirePrincipal(ctx);
    const review = this.reviewOf(item, input.gate);
    const gate = parsePath(review.gate);
    const to = decision === 'approved' ? childPath(gate, basename(item)) : childPath(childPath(dirname(item), REJECTED_FOLDER), basename(item));
    ctx.audit.path = `${item.full} -> ${to.full}`;
    if (!isHuman(p)) throw new BatonError('forbidden', `only a human key may ${decision === 'approved' ? 'approve' : 'reject'} items waiting at ${review.gate}`);
    authorize(p, 'read', item);
    authorize(p, 'write', childPath(gate, basename(item)), [review.gate]);
    const driver = this.workspaces.resolve(item).driver;
    if ((await driver.stat(item))?.type !== 'file') throw new BatonError('not_found', `${item.full} is not waiting at ${review.gate} (it was moved or removed)`);
    // Approving never replaces what the gate already holds; a rejection replaces the last one.
    const result = await this.files.commitMove(ctx, item, to, decision === 'rejected', { review: { decision, gate: review.gate, ...(note !== undefined ? { note } : {}) } });
    return { decision, gate: review.gate, from: item.full, path: result.to.path, etag: result.to.etag, ...(note !== undefined ? { note } : {}) };
  }

  /** The gate an item waits for: the one named, or the only one its folder feeds. */
  private reviewOf(item: BatonPath, gate: string | undefined): Review {
    const folder = dirname(item).full;
    const feeding = this.reviews().filter((r) => r.from.includes(folder));
    if (feeding.length === 0) throw new BatonError('bad_request', `${item.full} is not in a folder waiting for a gate; gates with a waiting list are declared as {path, from} in the workspace YAML`);
    if (gate !== undefined) {
      const named = feeding.find((r) => r.gate === parsePath(gate).full);
      if (!named) throw new BatonError('bad_request', `${folder} does not wait for gate ${gate}; it waits for ${feeding.map((r) => r.gate).join(', ')}`);
      return named;
    }
    if (feeding.length > 1) throw new BatonError('bad_request', `${folder} waits for several gates (${feeding.map((r) => r.gate).join(', ')}): name one with "gate"`);
    return feeding[0]!;
  }
}
