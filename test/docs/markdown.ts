import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/baton.js';

/**
 * The fenced blocks of `lang` in the section of `file` under `heading` (up to the next heading of
 * the same or a higher level, outside code), exactly as the reader sees them.
 */
export function fencedBlocks(file: string, heading: string, lang: string): string[] {
  const lines = readFileSync(join(REPO, file), 'utf8').split('\n');
  const level = /^#+/.exec(heading)![0].length;
  const blocks: string[] = [];
  let inSection = false;
  let fence: string[] | null = null;
  let fenceLang = '';
  for (const line of lines) {
    if (fence) {
      if (line.startsWith('```')) {
        if (inSection && fenceLang === lang) blocks.push(fence.join('\n'));
        fence = null;
      } else fence.push(line);
      continue;
    }
    if (line.startsWith('```')) {
      fence = [];
      fenceLang = line.slice(3).trim();
      continue;
    }
    const h = /^(#+) /.exec(line);
    if (h) {
      if (line === heading) inSection = true;
      else if (inSection && h[1]!.length <= level) break;
    }
  }
  if (!inSection) throw new Error(`${file}: no heading ${heading}`);
  return blocks;
}
