/**
 * The slot hash is part of the stored format (processes of different
 * releases must agree on it), so its values are pinned here.
 */
import { describe, expect, it } from 'vitest';
import { SLOT_COUNT, checkSlots, fnv1a32, isSlot, rendezvousScore, slotOf } from '../../src/cluster/slots.js';
import { InvalidArgumentError } from '../../src/errors.js';

describe('slots', () => {
  it('hashes with FNV-1a 32 over UTF-8 (the published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('puts an object in the slot of its class, partition and id, the same in every release', () => {
    expect(SLOT_COUNT).toBe(256);
    expect(slotOf({ clsId: 'pkg.Counter', partitionId: 0, objectId: 'c1' })).toBe(141);
    expect(slotOf({ clsId: 'pkg.Counter', partitionId: 0, objectId: 'c2' })).toBe(212);
    expect(slotOf({ clsId: 'pkg.Counter', partitionId: 7, objectId: 'c1' })).toBe(74);
    expect(slotOf({ clsId: 'shop.Cart', partitionId: 0, objectId: 'ünï' })).toBe(102);
  });

  it('spreads ids evenly over the slots', () => {
    const counts = new Array<number>(SLOT_COUNT).fill(0);
    const n = 256_000;
    for (let i = 0; i < n; i++) counts[slotOf({ clsId: 'pkg.Counter', partitionId: 0, objectId: `user-${i}` })]! += 1;
    // 1000 per slot on average; a fair hash stays well within ±20% (about 6 standard deviations).
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('knows a slot number, and refuses malformed lists of them with InvalidArgumentError', () => {
    expect([0, 255, 256, -1, 1.5, '1', Number.NaN].map(isSlot)).toEqual([true, true, false, false, false, false, false]);
    expect(() => checkSlots([0, 3, 255], 'slots')).not.toThrow();
    for (const bad of [null, 'all', [256], [0, 0], [undefined]]) {
      expect(() => checkSlots(bad, 'slots')).toThrow(InvalidArgumentError);
    }
  });
});

describe('rendezvousScore', () => {
  it('shares the slots fairly among members whose ids differ only in their last characters', () => {
    // Twenty clusters of three members on neighbouring ports: each member's share stays near a third (85 of 256).
    for (let base = 40_000; base < 40_060; base += 3) {
      const ids = [0, 1, 2].map((i) => `http://127.0.0.1:${base + i}`);
      const shares = [0, 0, 0];
      for (let slot = 0; slot < SLOT_COUNT; slot++) {
        const scores = ids.map((id) => rendezvousScore(id, slot));
        shares[scores.indexOf(Math.max(...scores))]! += 1;
      }
      for (const share of shares) expect(share, `${ids.join(' ')}: ${shares.join(', ')}`).toBeGreaterThan(60);
    }
  });

  it('is the same for the same member and slot, and differs across slots', () => {
    expect(rendezvousScore('web-1', 7)).toBe(rendezvousScore('web-1', 7));
    expect(new Set(Array.from({ length: 16 }, (_, slot) => rendezvousScore('web-1', slot))).size).toBe(16);
  });
});
