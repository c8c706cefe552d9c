import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compositeKey } from './compositeKey';

describe('composite keys', () => {
  it('never collide across accounts whose ids contain the separator', () => {
    expect(compositeKey('upgrade', 'a:b', 'c')).not.toBe(compositeKey('upgrade', 'a', 'b:c'));
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 4 }), fc.array(fc.string(), { minLength: 1, maxLength: 4 }), (a, b) => {
        if (a.length === b.length && a.every((x, i) => x === b[i])) return;
        expect(compositeKey(...a)).not.toBe(compositeKey(...b));
      }),
    );
  });

  it('leave keys of plain ids as they were, so stored keys and experiment buckets do not move', () => {
    expect(compositeKey('upgrade', 'acme', 'req-1')).toBe('upgrade:acme:req-1');
    expect(compositeKey('acme', 'u_42')).toBe('acme:u_42');
  });
});
