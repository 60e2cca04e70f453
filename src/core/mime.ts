import { lookup } from 'mime-types';

export function guessMimeType(name: string): string {
  return lookup(name) || 'application/octet-stream';
}
