import type { BigIntStats } from 'node:fs';

/** Identity of the bytes at a path: any replacement (rename of a new inode) or edit changes it. */
export function etagOf(st: BigIntStats): string {
  return `${st.ino.toString(36)}-${st.mtimeNs.toString(36)}-${st.size.toString(36)}`;
}
