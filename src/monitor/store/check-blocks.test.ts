import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { CheckRow } from '../model.ts';
import { riceBits } from './bytes.ts';
import {
  bestRice,
  CheckColumns,
  decodeBlock,
  decodeCheck,
  encodeBlock,
  encodeCheck,
} from './check-blocks.ts';

const ms = 60_000;
/** A latency the prober would write (0.01 ms), or any double at all. */
const latency = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 3_000_000 }).map((n) => n / 100) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
);
const time = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 4_000_000_000_000 }) },
  { weight: 1, arbitrary: fc.double({ min: -1e15, max: 1e15, noNaN: true }) },
);
const text = fc.oneof(
  fc.constantFrom('', 'status 503 not in 200-399', 'no complete answer within 10000 ms'),
  fc.string({ unit: 'binary' }),
);
/**
 * What a newer agent may add to a check: fields of any JSON value; and kind, state and observed of
 * a type the codec does not code.
 */
const extras = fc.dictionary(
  fc.constantFrom('kind', 'state', 'observed', 'degraded', 'maintenance', 'assertions', 'answers'),
  fc.jsonValue({ noUnicodeString: false }).map((v) => JSON.parse(JSON.stringify(v)) as unknown),
  { maxKeys: 3, noNullPrototype: true },
);

/** The parts of a check that vary, for a series (tenant, target, region fixed) at `scheduledAt`. */
/** A JSON value as it comes back from JSON (no -0, no undefined in objects). */
const json = fc.jsonValue({ noUnicodeString: false }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
/**
 * What a kind's check saw, as the probes write it, or any JSON value at all; as a record body carries
 * it (through JSON: no -0).
 */
const observed = fc
  .oneof(
    fc.constant(null),
    fc.record({ answers: fc.array(text, { maxLength: 4 }) }, { noNullPrototype: true }),
    fc.record(
      {
        assertions: fc.array(
          fc.record(
            { type: fc.constantFrom('json', 'header', 'responseTime'), ok: fc.boolean(), actual: json },
            { noNullPrototype: true },
          ),
          { maxLength: 3 },
        ),
      },
      { noNullPrototype: true },
    ),
    fc.record(
      {
        ping: fc.record(
          {
            sent: fc.nat(10),
            received: fc.nat(10),
            rttMinMs: fc.oneof(fc.constant(null), latency),
            rttMaxMs: fc.oneof(fc.constant(null), latency),
          },
          { noNullPrototype: true },
        ),
      },
      { noNullPrototype: true },
    ),
    json,
  )
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown);
/** kind, state and observed, each absent or set: known words, and words a newer agent may send. */
const kinded = fc.record(
  {
    kind: fc.oneof(fc.constantFrom('http', 'tcp', 'dns', 'push', 'icmp'), text),
    state: fc.oneof(fc.constantFrom('up', 'down', 'degraded', 'maintenance'), text),
    observed,
  },
  { requiredKeys: [], noNullPrototype: true },
);

const checkAt = (region: string, scheduledAt: number) =>
  fc
    .record(
      {
        slot: fc.oneof(
          fc.constant(Math.floor(scheduledAt / ms)),
          fc.integer(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
        ),
        startedAt: fc.oneof(
          fc.integer({ min: 0, max: 90 }).map((d) => scheduledAt + d),
          time,
        ),
        durationMs: latency,
        phases: fc.record(
          { dnsMs: latency, connectMs: latency, tlsMs: latency, ttfbMs: latency, transferMs: latency },
          { noNullPrototype: true },
        ),
        status: fc.oneof(fc.constant(null), fc.constantFrom(200, 301, 503), fc.integer()),
        httpVersion: fc.oneof(fc.constant(null), fc.constantFrom('1.1', '1.0', '2.0'), text),
        bytes: fc.oneof(fc.nat(1_000_000), fc.integer()),
        tlsExpiresAt: fc.oneof(fc.constant(null), fc.constant(scheduledAt + 90 * 86_400_000), time),
        patternMatched: fc.constantFrom(null, true, false),
        redirects: fc.nat(10),
        ok: fc.boolean(),
        error: fc.oneof(
          { weight: 3, arbitrary: fc.constant(null) },
          {
            weight: 1,
            arbitrary: fc.record(
              {
                class: fc.oneof(
                  fc.constantFrom('timeout', 'refused', 'status', 'dns', 'assertion', 'missed'),
                  text,
                ),
                detail: text,
              },
              { noNullPrototype: true },
            ),
          },
        ),
        kinded: fc.oneof({ weight: 1, arbitrary: fc.constant({}) }, { weight: 3, arbitrary: kinded }),
        extras: fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extras }),
      },
      { noNullPrototype: true },
    )
    // Error classes beyond today's list (a newer agent's) are what the codec must carry too.
    .map(
      ({ extras, kinded, ...check }) =>
        ({ ...extras, ...kinded, ...check, tenant: 't1', target: 'web', region, scheduledAt }) as CheckRow,
    );

/** A series: on-time slots with missed ones, the odd extra check between slots, sometimes a fractional time. */
const series = (region: string) =>
  fc
    .array(
      fc.oneof(
        { weight: 10, arbitrary: fc.constant(ms) },
        { weight: 1, arbitrary: fc.constant(3 * ms) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: ms }) },
        { weight: 1, arbitrary: fc.double({ min: 0.001, max: 100, noNaN: true }) },
      ),
      { minLength: 1, maxLength: 120 },
    )
    .chain((steps) => {
      const times: number[] = [];
      let at = 1_773_100_800_000;
      for (const step of steps) times.push((at += step));
      return fc.tuple(...times.map((t) => checkAt(region, t)));
    });

test('a block gives back exactly the checks it was made of, for any series', () => {
  fc.assert(
    fc.property(series('eu'), (checks) => {
      const columns = new CheckColumns();
      for (const check of checks) columns.push(check);
      const block = encodeBlock(columns.normalized());
      assert.deepStrictEqual(
        decodeBlock(block).checks({ tenant: 't1', target: 'web', region: 'eu' }),
        checks,
      );
      // The columns have room past their rows: times() is the rows' alone.
      assert.deepStrictEqual(
        [...decodeBlock(block).times()],
        checks.map((c) => c.scheduledAt),
      );
      // Compaction merges an hour block's columns with the next's: nothing is lost either.
      const half = checks.length >> 1;
      const [early, late] = [new CheckColumns(), new CheckColumns()];
      checks.forEach((check, k) => (k < half ? early : late).push(check));
      const merged = new CheckColumns();
      for (const part of [early, late]) if (part.n > 0) merged.append(decodeBlock(encodeBlock(part)));
      assert.deepStrictEqual(
        decodeBlock(encodeBlock(merged)).checks({ tenant: 't1', target: 'web', region: 'eu' }),
        checks,
      );
    }),
    { numRuns: 300 },
  );
});

test('a hot row gives back exactly its check, and a block made from hot rows does too', () => {
  fc.assert(
    fc.property(series('us-east'), (checks) => {
      const key = { tenant: 't1', target: 'web', region: 'us-east' };
      const columns = new CheckColumns();
      const bodies: Uint8Array[] = [];
      for (const check of checks) {
        const body = encodeCheck(check);
        assert.deepStrictEqual(decodeCheck(key, check.scheduledAt, body), check);
        columns.pushBody(check.scheduledAt, body);
        bodies.push(body);
      }
      assert.deepStrictEqual(decodeBlock(encodeBlock(columns)).checks(key), checks);
      // Compaction reads a range's bodies back to back: each ends where its format says.
      const run = new CheckColumns();
      const times = checks.map((c) => c.scheduledAt);
      run.pushBodies(times, Buffer.concat(bodies));
      assert.deepStrictEqual(decodeBlock(encodeBlock(run)).checks(key), checks);
      assert.throws(() => new CheckColumns().pushBodies(times, Buffer.concat([...bodies, Buffer.of(1)])));
      assert.throws(() =>
        new CheckColumns().pushBodies([...times, times.at(-1)! + 1], Buffer.concat(bodies)),
      );
    }),
    { numRuns: 300 },
  );
});

test('a block is zstd-compressed only when it has text enough to shrink, and reads either way', () => {
  const key = { tenant: 't1', target: 'web', region: 'eu' };
  const zstd = (b: Uint8Array) => b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
  const check = (k: number, detail: string | null): CheckRow => ({
    ...key,
    slot: k,
    scheduledAt: k * ms,
    startedAt: k * ms + 3,
    durationMs: 12.5 + (k % 7),
    phases: { dnsMs: 1, connectMs: 2, tlsMs: 3, ttfbMs: 4, transferMs: 2.5 },
    status: detail ? null : 200,
    httpVersion: detail ? null : '1.1',
    bytes: detail ? 0 : 42,
    tlsExpiresAt: null,
    patternMatched: null,
    redirects: 0,
    ok: !detail,
    error: detail ? { class: 'timeout', detail } : null,
  });
  for (const [detail, compressed] of [
    [null, false],
    ['no complete answer within 10000 ms from 10.0.0.', true],
  ] as const) {
    const checks = Array.from({ length: 60 }, (_, k) => check(k, detail && `${detail}${k}`));
    const columns = new CheckColumns();
    for (const c of checks) columns.push(c);
    const block = encodeBlock(columns);
    assert.equal(zstd(block), compressed);
    assert.deepStrictEqual(decodeBlock(block).checks(key), checks);
  }
});

test('checks of several regions, shuffled and repeated, come out of their blocks once each, in time order', () => {
  fc.assert(
    fc.property(fc.tuple(series('eu'), series('us')), fc.integer(), ([eu, us], seed) => {
      for (const [region, checks] of [
        ['eu', eu],
        ['us', us],
      ] as const) {
        // What compaction meets: a period's rows in any order, a redelivered copy among them.
        const mixed = [...checks, ...checks.slice(0, 3).map((c) => ({ ...c, bytes: -1 }))];
        const order = mixed
          .map((_, i) => i)
          .sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101));
        const columns = new CheckColumns();
        // The first of an identity wins, as a hot row would have.
        const seen = new Set<number>();
        for (const i of order) {
          if (seen.has(mixed[i]!.scheduledAt)) continue;
          seen.add(mixed[i]!.scheduledAt);
          columns.push(mixed[i]!);
        }
        const firsts = new Map(
          order
            .map((i) => mixed[i]!)
            .reverse()
            .map((c) => [c.scheduledAt, c]),
        );
        const expected = [...firsts.values()].sort((a, b) => a.scheduledAt - b.scheduledAt);
        const key = { tenant: 't1', target: 'web', region };
        assert.deepStrictEqual(decodeBlock(encodeBlock(columns.normalized())).checks(key), expected);
      }
    }),
    { numRuns: 150 },
  );
});

test('a damaged block is refused, not read as other checks', () => {
  const columns = new CheckColumns();
  columns.push({
    tenant: 't1',
    target: 'web',
    region: 'eu',
    slot: 1,
    scheduledAt: ms,
    startedAt: ms + 3,
    durationMs: 12.5,
    phases: { dnsMs: 1, connectMs: 2, tlsMs: 3, ttfbMs: 4, transferMs: 2.5 },
    status: 200,
    httpVersion: '1.1',
    bytes: 42,
    tlsExpiresAt: null,
    patternMatched: null,
    redirects: 0,
    ok: true,
    error: null,
  });
  const block = encodeBlock(columns);
  assert.throws(() => decodeBlock(block.subarray(0, block.length - 3)));
  assert.throws(() => decodeBlock(Buffer.from('not a block')));
});

test('hot rows and blocks written before kinds and states read as they were written', () => {
  // Written by the codec of 009_check_blocks (block format 1, hot rows without the third byte): the
  // second check carried kind, state and observed as JSON extras, as that codec did.
  const key = { tenant: 't1', target: 'web', region: 'eu' };
  const first: CheckRow = {
    tenant: 't1',
    target: 'web',
    region: 'eu',
    slot: 29551680,
    scheduledAt: 1_773_100_800_000,
    startedAt: 1_773_100_800_004,
    durationMs: 41.27,
    phases: { dnsMs: 1.5, connectMs: 2.25, tlsMs: 10.02, ttfbMs: 20, transferMs: 7.5 },
    status: 200,
    httpVersion: '1.1',
    bytes: 512,
    tlsExpiresAt: 1_780_000_000_000,
    patternMatched: null,
    redirects: 0,
    ok: true,
    error: null,
  };
  const second: CheckRow = {
    ...first,
    scheduledAt: first.scheduledAt + ms,
    slot: first.slot + 1,
    startedAt: first.startedAt + ms,
    ok: false,
    status: 503,
    error: { class: 'status', detail: 'status 503 not in 200-399' },
    kind: 'tcp',
    state: 'down',
    observed: { answers: ['10 mx.example.com'] },
  };
  const hot = [
    'AQGAsZccCACsAsID1A+gH9wLkAOACICwlA0A',
    'YAGCsZccCACsAsID1A+gH9wL7geACJCulA0ACRlzdGF0dXMgNTAzIG5vdCBpbiAyMDAtMzk5UHsiZiI6eyJraW5kIjoidGNwIiwic3RhdGUiOiJkb3duIiwib2JzZXJ2ZWQiOnsiYW5zd2VycyI6WyIxMCBteC5leGFtcGxlLmNvbSJdfX19',
  ].map((b) => Buffer.from(b, 'base64'));
  const block = Buffer.from(
    'KLUv/SDSTQYAMswuM2Bt0gEwnGJ1VZEUoJSngt4W/TAJ0Y6xjVkyvhHZxX4I0yAOKkPT+7Sy5MSYgw/LcXeSKdarMQx7WOu6RHBCY1EdGHUs96R1mFZuIEdGqoIVGyghrqVs5FzVTgsnNeVSVnOZO20VMxLrmRazHgaLpZLwnoKLGTev6CpvwRmoXi0pJjUlpL8USU3V+tuQRkkBhuSTWfyTzAAjAVDGLxDiI2D4Ax9+6/C/4dufuPngw5G9NShBxIUHiEj2awMAXCpKoa71PpQo',
    'base64',
  );
  assert.deepStrictEqual(decodeCheck(key, first.scheduledAt, hot[0]!), first);
  assert.deepStrictEqual(decodeCheck(key, second.scheduledAt, hot[1]!), second);
  assert.deepStrictEqual(decodeBlock(block).checks(key), [first, second]);
  // Compaction merges old hot rows and old blocks into blocks of the new format, losing nothing.
  const columns = new CheckColumns();
  columns.pushBody(first.scheduledAt, hot[0]!);
  columns.pushBody(second.scheduledAt, hot[1]!);
  assert.deepStrictEqual(decodeBlock(encodeBlock(columns)).checks(key), [first, second]);
  assert.deepStrictEqual(decodeBlock(encodeBlock(decodeBlock(block))).checks(key), [first, second]);
  // The new format codes them instead: the second check's body shrinks by its JSON.
  assert.ok(encodeCheck(second).length < hot[1]!.length - 40);
  assert.ok(encodeCheck({ ...first, state: 'up' }).length === hot[0]!.length);
});

test('blocks of format 2, whose Rice codes all escape at 32, read as they were written', () => {
  // Written by the codec of format 2: 300 checks a minute apart, the 18th a timeout whose duration
  // was an escaped Rice code.
  const block = Buffer.from(
    'KLUv/WD7AYUNAHQYAqwCAYDg2NCaZwHAqQerAgGAsZccAQKrAgMMAZVMJVPJVDIDNAOXwvNm8Vhp2j0cFvn///+vYNT8ueG4ajp1GC6F583isdK0ezgsks8Nx1XTqcNwKTxvFo+Vpt3DYZF8bjiumk4dhkvhebN4rDTtHg6L5HPDcdV06jBcCs+bxWOlafdwWCSfG46rplOH4VJ43iweK027h8Mi+dxwXDWdOgzJ54bjqunUYbgUnjeLx0rT7uGwSD43HFdNpw7DpfC8WTxWmnYPh0XyAACsAqwCAMIDrAIA1A+sAgGgHwGaAQjPCQGaAQfVJwIA3AsRAAHcC5oCAKIGEQABogaaAgCACBEAAYAImgIBgoCX52YB/9IOqwICEQABApoCAQMxLjEHdGltZW91dAARAgEAmgIBIm5vIGNvbXBsZXRlIGFuc3dlciB3aXRoaW4gMTAwMDAgbXMBBGh0dHACrAICAnVwBGRvd24CEQQheyJzIjpbIjEwIG14LmV4YS5jb20iXX0AEQIBAJoCAA0AXAQVxIxnHFfBgnEqwxelNaygVinUcA5hGc7B86P4fojjXlN5Ag==',
    'base64',
  );
  const hundredths = (n: number) => Math.round(n * 100) / 100;
  const checks = Array.from({ length: 300 }, (_, i): CheckRow => {
    const at = 1_773_100_800_000 + i * ms;
    const timeout = i === 17;
    const phases = {
      dnsMs: 1.5,
      connectMs: 2.25,
      tlsMs: 10.02,
      ttfbMs: timeout ? 0 : hundredths(20 + (i % 9) * 0.77),
      transferMs: timeout ? 0 : 7.5,
    };
    const spent = phases.dnsMs + phases.connectMs + phases.tlsMs + phases.ttfbMs + phases.transferMs;
    return {
      tenant: 't1',
      target: 'web',
      region: 'eu',
      slot: 29551680 + i,
      scheduledAt: at,
      startedAt: at + 4 + (i % 5),
      durationMs: hundredths(spent + 0.13 + ((i * 37) % 29) * 0.01 + (timeout ? 9966.25 : 0)),
      phases,
      status: timeout ? null : 200,
      httpVersion: timeout ? null : '1.1',
      bytes: timeout ? 0 : 512,
      tlsExpiresAt: 1_780_000_000_000,
      patternMatched: null,
      redirects: 0,
      ok: !timeout,
      error: timeout ? { class: 'timeout', detail: 'no complete answer within 10000 ms' } : null,
      kind: 'http',
      state: timeout ? 'down' : 'up',
      ...(timeout ? { observed: { answers: ['10 mx.example.com'] } } : {}),
    };
  });
  const key = { tenant: 't1', target: 'web', region: 'eu' };
  assert.deepStrictEqual(decodeBlock(block).checks(key), checks);
  // Compaction rewrites it in the current format, losing nothing.
  assert.deepStrictEqual(decodeBlock(encodeBlock(decodeBlock(block))).checks(key), checks);
});

test('the Rice parameter and escape point chosen come with their exact cost in bits', () => {
  // The column's mode is chosen by these bits: a wrong count would pick a longer mode. Residuals
  // around a level, with spikes past the escape as latencies have.
  const residuals = fc.array(
    fc.oneof(
      { weight: 20, arbitrary: fc.nat({ max: 400 }) },
      { weight: 2, arbitrary: fc.nat({ max: 2 ** 31 - 1 }) },
      { weight: 1, arbitrary: fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }) },
    ),
    { minLength: 1, maxLength: 300 },
  );
  fc.assert(
    fc.property(residuals, (values) => {
      const { k, escape, bits } = bestRice(values, values.length);
      assert.equal(
        bits,
        values.reduce((n, z) => n + riceBits(z, k, escape), 0),
      );
      // No escape point of that k is shorter.
      for (let other = 1; other <= 32; other++)
        assert.ok(bits <= values.reduce((n, z) => n + riceBits(z, k, other), 0));
    }),
  );
});
