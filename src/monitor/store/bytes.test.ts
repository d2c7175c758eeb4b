import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BitReader, BitWriter, ByteReader, ByteWriter, riceBits } from './bytes.ts';

/** A Rice-coded value: small ones (most), long quotients, escapes, and values past 2^31. */
const value = fc.oneof(
  { weight: 6, arbitrary: fc.nat(4096) },
  { weight: 2, arbitrary: fc.nat(2 ** 31 - 1) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }) },
);

test('Rice codes read back exactly what was written, with the bytes after them where they were', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ z: value, k: fc.nat(24), escape: fc.integer({ min: 1, max: 32 }) }), {
        maxLength: 200,
      }),
      fc.nat(255),
      (codes, trailer) => {
        const w = new ByteWriter();
        const bits = new BitWriter(w);
        let expected = 0;
        for (const { z, k, escape } of codes) {
          bits.rice(z, k, escape);
          expected += riceBits(z, k, escape);
        }
        bits.flush();
        const end = w.length;
        assert.equal(end, Math.ceil(expected / 8));
        w.byte(trailer);
        const buf = w.finish();
        const r = new BitReader(buf, 0);
        for (const { z, k, escape } of codes) assert.equal(r.rice(k, escape), z);
        // The reader reads ahead into the trailer, but says where the codes end.
        assert.equal(r.end(), end);
        const after = new ByteReader(buf, r.end());
        assert.equal(after.byte(), trailer);
      },
    ),
    { numRuns: 500 },
  );
});

test('a Rice code cut short is refused', () => {
  const w = new ByteWriter();
  const bits = new BitWriter(w);
  bits.rice(2 ** 40, 3, 32);
  bits.flush();
  const buf = w.finish();
  assert.throws(() => new BitReader(buf.subarray(0, buf.length - 2), 0).rice(3, 32), RangeError);
});
