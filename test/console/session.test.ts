import { describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/console/session.js';

describe('console sessions', () => {
  it('expire after their time to live and end on sign-out', () => {
    let now = 1_000;
    const store = new SessionStore(60_000, () => now);
    const a = store.create('key-a');
    const b = store.create('key-b');
    expect(a.id).not.toBe(b.id);
    expect(a.session.csrf).not.toBe(b.session.csrf);
    expect(store.get(a.id)?.key).toBe('key-a');
    store.end(b.id);
    expect(store.get(b.id)).toBeUndefined();
    now += 60_000;
    expect(store.get(a.id)).toBeUndefined();
    expect(store.get(undefined)).toBeUndefined();
  });
});
