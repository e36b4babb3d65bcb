import { describe, expect, it } from 'vitest';
import { inCreationOrder } from '../../src/session/creation-order.js';

/** Items with the given serials, in the order given. */
const items = (serials: number[]): { serial: number; name: string }[] => serials.map((serial) => ({ serial, name: `s${serial}` }));

/** n distinct serials (3, 10, 17, ...) in a seeded shuffled order. */
function shuffled(n: number): number[] {
  const serials = Array.from({ length: n }, (_, i) => i * 7 + 3);
  let seed = 42;
  for (let i = n - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [serials[i], serials[j]] = [serials[j]!, serials[i]!];
  }
  return serials;
}

describe('inCreationOrder', () => {
  it('orders by serial, keeping the items themselves, and leaves the input as it was', () => {
    const given = items(shuffled(5000));
    const before = [...given];
    const sorted = inCreationOrder(given);
    expect(sorted.map((i) => i.serial)).toEqual([...before.map((i) => i.serial)].sort((a, b) => a - b));
    expect(new Set(sorted)).toEqual(new Set(given));
    expect(given).toEqual(before);
  });

  it('gives the same order when the packed keys would not be exact: more items than positions, or serials too large', () => {
    const given = items(shuffled(300));
    const expected = inCreationOrder(given).map((i) => i.name);
    expect(inCreationOrder(given, 64).map((i) => i.name)).toEqual(expected);
    const huge = items([Number.MAX_SAFE_INTEGER - 1, 5, Number.MAX_SAFE_INTEGER - 3, 2]);
    expect(inCreationOrder(huge).map((i) => i.serial)).toEqual([2, 5, Number.MAX_SAFE_INTEGER - 3, Number.MAX_SAFE_INTEGER - 1]);
  });

  it('returns an empty list for an empty one', () => {
    expect(inCreationOrder([])).toEqual([]);
  });
});
