import { BatonError } from '../core/errors.js';
import { basename, dirname, parsePath, type BatonPath } from '../core/paths.js';

export const QUEUE_FOLDERS = ['pending', 'in-progress', 'done', 'failed'] as const;
export type QueueFolder = (typeof QUEUE_FOLDERS)[number];

/** A file directly inside one of a queue's four folders: `<queue>/<folder>/<name>`. */
export interface TicketPath {
  queue: BatonPath;
  folder: QueueFolder;
  name: string;
}

export function ticketPathOf(p: BatonPath): TicketPath | null {
  if (p.segments.length < 3) return null;
  const folder = basename(dirname(p)) as QueueFolder;
  if (!QUEUE_FOLDERS.includes(folder)) return null;
  return { queue: dirname(dirname(p)), folder, name: basename(p) };
}

export function requireTicket(path: string, folder: QueueFolder): TicketPath {
  const t = ticketPathOf(parsePath(path));
  if (!t || t.folder !== folder) throw new BatonError('bad_request', `${path} is not a ticket in a queue's ${folder}/ folder`);
  return t;
}

export function inQueue(queue: BatonPath, folder: QueueFolder, name?: string): BatonPath {
  return parsePath(`${queue.full}/${folder}${name === undefined ? '' : `/${name}`}`);
}

/**
 * Claiming from a folder with no pending/ is a mistake (a typo, or the wrong folder), not an
 * empty queue: answering "empty" would leave a worker polling a folder nobody fills.
 */
export function notAQueue(queue: BatonPath): BatonError {
  return new BatonError(
    'not_found',
    `${queue.full} is not a queue: it has no pending/ folder. Check the path, or make it a queue by creating ${queue.full}/pending/ (tickets go there)`,
  );
}
