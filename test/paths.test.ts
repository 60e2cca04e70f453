import { describe, expect, it } from 'vitest';
import { childPath, parsePath } from '../src/core/paths.js';

/** childPath is parsePath's shortcut for listings: it must agree with it on every name. */
const NAMES = [
  'a.txt', 'report 2026 (final).md', "it's-ok_[1]{2}#3&4!5$6.txt", '.hidden', '..', '.', '.baton', '.batonx', 'x'.repeat(255), 'x'.repeat(256),
  'café.md', 'cafe\u0301.md', '日本語.txt', 'a%2e', 'a%2F', 'back\\slash', 'nul\u0000', 'tab\there', 'new\nline', 'del\u007f', '',
];

describe('childPath', () => {
  for (const parent of ['/demo', '/demo/inbox', `/demo/${'d'.repeat(250)}/${'e'.repeat(250)}/${'f'.repeat(250)}/${'g'.repeat(240)}`]) {
    it(`agrees with parsePath under ${parent.slice(0, 30)}…`, () => {
      const p = parsePath(parent);
      for (const name of NAMES) {
        let expected: unknown;
        try {
          expected = parsePath(`${parent}/${name}`);
        } catch (err) {
          expect(() => childPath(p, name), JSON.stringify(name)).toThrow((err as Error).message);
          continue;
        }
        expect(childPath(p, name), JSON.stringify(name)).toEqual(expected);
      }
    });
  }
});
