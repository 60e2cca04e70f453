import { fdatasync, fsync, open } from 'node:fs';
import { promisify } from 'node:util';

/*
 * The calls on Baton's write path that wait for the disk, made off the event loop: flushes, and
 * creating a file (hundreds of microseconds on a busy virtual disk). Everything else there is
 * a metadata call of a few microseconds, made synchronously, since a round trip through the
 * thread pool costs more than the call itself.
 */
export const fsyncFd: (fd: number) => Promise<void> = promisify(fsync);
export const fdatasyncFd: (fd: number) => Promise<void> = promisify(fdatasync);
export const openFd: (path: string, flags: string | number) => Promise<number> = promisify(open);
