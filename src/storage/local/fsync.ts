import { fdatasync, fsync } from 'node:fs';
import { promisify } from 'node:util';

/*
 * Flushes of an open descriptor, off the event loop: they wait for the disk. Everything else on
 * Baton's write path is a metadata call of a few microseconds, made synchronously, since a
 * round trip through the thread pool costs more than the call itself.
 */
export const fsyncFd: (fd: number) => Promise<void> = promisify(fsync);
export const fdatasyncFd: (fd: number) => Promise<void> = promisify(fdatasync);
