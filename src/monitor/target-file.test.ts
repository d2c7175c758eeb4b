import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BeaconError } from '../errors/catalog.ts';
import type { HttpTarget, Target } from './target.ts';
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSpace, parseTargetsFile, readTargetsFile, simpleItem, TargetsFileReader } from './target-file.ts';

const tenants = new Set(['default', 'acme']);
const parse = (text: string) => parseTargetsFile(text, 'targets.yaml', tenants, 1000).targets;
const rejects = (text: string, message: RegExp) =>
  assert.throws(
    () => parse(text),
    (err: unknown) =>
      err instanceof BeaconError && err.code === 'TARGETS_FILE_INVALID' && message.test(err.message),
  );

test('a good file gives validated targets with defaults, per tenant', () => {
  const targets = parse(`
targets:
  - id: home
    url: https://example.com/
  - id: api
    tenant: acme
    url: http://api.example.com/health
    intervalSeconds: 10
    expectStatus: ["200", "204"]
    pattern: "ok|healthy"
`);
  assert.deepEqual(
    targets.map((t) => [t.tenant, t.id, t.source, t.intervalSeconds, t.timeoutMs]),
    [
      ['default', 'home', 'file', 60, 10000],
      ['acme', 'api', 'file', 10, 10000],
    ],
  );
  assert.deepEqual(parse(''), []);
  assert.deepEqual(parse('targets: []'), []);
});

test('each problem names its line', () => {
  rejects(
    'targets:\n  - id: a\n    url: https://x/\n    intervalSecs: 5\n',
    /targets\.yaml:4: targets\[0\]\.intervalSecs is not a known field/,
  );
  rejects(
    'targets:\n  - id: a\n    url: https://x/\n    expectStatus: ["600"]\n',
    /targets\.yaml:4: targets\[0\]\.expectStatus\[0\]/,
  );
  rejects(
    'targets:\n  - id: a\n    url: https://x/\n  - id: a\n    url: https://y/\n',
    /targets\.yaml:4: targets\[1\]\.id a repeats targets\[0\]/,
  );
  rejects(
    'targets:\n  - id: a\n    tenant: nobody\n    url: https://x/\n',
    /targets\.yaml:3: .*not a tenant/,
  );
  rejects('targets:\n  - url: https://x/\n', /targets\.yaml:2: targets\[0\]\.id/);
  rejects(
    'targets:\n  - id: a\n    url: https://x/\n    pattern: "(a"\n',
    /targets\.yaml:4: targets\[0\]\.pattern is not a valid RE2 pattern/,
  );
  rejects('targets:\n  - id: a\n  url: [\n', /targets\.yaml:\d+:/);
  rejects('- just a list\n', /targets\.yaml:1: the file must be a mapping/);
});

/** A file of `n` targets, one of them (`bad`) with an unknown field. */
function bigFile(n: number, bad?: number): string {
  let text = '# generated\ntargets:\n';
  for (let i = 0; i < n; i++) {
    text += `  - id: t${i}\n    url: http://h${i % 7}.example/t${i}\n`;
    if (i === bad) text += '    intervalSecs: 5\n';
    if (i % 3 === 0) text += '    tags: [a, b]\n\n';
  }
  return text + 'channels:\n  - id: ops\n    name: Ops\n    url: json://hooks.example/x\n';
}

test('a file of many targets is read in batches, each handed on as soon as it is valid, and none kept', () => {
  const batches: number[] = [];
  const handed: Target[] = [];
  const reader = new TargetsFileReader('targets.yaml', tenants, 1000);
  const lines = bigFile(1000).split('\n');
  let drainedBeforeEnd = 0;
  for (const [n, line] of lines.entries()) {
    reader.line(line);
    for (const b of reader.drain()) {
      batches.push(b.length);
      handed.push(...b);
      if (n < lines.length / 2) drainedBeforeEnd += b.length;
    }
  }
  const rest = reader.finish()!;
  for (const b of reader.drain()) {
    batches.push(b.length);
    handed.push(...b);
  }
  assert.deepEqual(reader.drain(), [], 'a batch is handed on once');
  assert.equal(reader.count, 1000);
  // The same targets, in the file's order, as parseTargetsFile gives them.
  assert.deepEqual(handed, parse(bigFile(1000)));
  assert.deepEqual(
    handed.slice(0, 4).map((t) => [t.id, t.tags]),
    [
      ['t0', ['a', 'b']],
      ['t1', []],
      ['t2', []],
      ['t3', ['a', 'b']],
    ],
  );
  assert.equal(rest.channels.length, 1, 'the sections after the targets are read too');
  assert.ok(!('targets' in rest) || (rest as { targets: unknown[] }).targets.length === 0);
  assert.ok(batches.length > 10, 'targets are handed on in batches, not all at the end');
  assert.ok(drainedBeforeEnd > 400, 'batches come while the file is read');
});

test('a problem late in a large file names its line and item', () => {
  // Item 4,321 starts on line 2 + lines before it: 2 per item, +2 for every third (tags and a blank).
  const text = bigFile(5000, 4321);
  const line = text.split('\n').findIndex((l) => l.includes('intervalSecs')) + 1;
  rejects(text, new RegExp(`^targets\\.yaml:${line}: targets\\[4321\\]\\.intervalSecs is not a known field`));
});

test('a file on disk is read with \\r\\n, \\n or \\r line ends, across chunk ends too, to the same targets and lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-targets-'));
  try {
    const lines = bigFile(3000).split('\n');
    const bad = bigFile(3000, 2500).split('\n');
    const badLine = bad.findIndex((l) => l.includes('intervalSecs')) + 2; // after the padding line
    for (const eol of ['\r\n', '\n', '\r']) {
      // A first line of 4,095 characters puts its line end across the first 4 KiB chunk's end.
      const pad = `# ${'x'.repeat(4093)}${eol}`;
      const file = join(dir, 'targets.yaml');
      writeFileSync(file, pad + lines.join(eol));
      const got: Target[] = [];
      const read = await readTargetsFile(file, tenants, 1000, (batch) => void got.push(...batch));
      assert.equal(read.targetCount, 3000, JSON.stringify(eol));
      assert.deepEqual(got, parse(bigFile(3000)), JSON.stringify(eol));
      assert.equal(read.channels.length, 1);
      writeFileSync(file, pad + bad.join(eol));
      await assert.rejects(
        readTargetsFile(file, tenants, 1000, () => undefined),
        (err: BeaconError) => err.message.includes(`targets.yaml:${badLine}: targets[2500].intervalSecs`),
        JSON.stringify(eol),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('isSpace is what \\s matches, for every UTF-16 code unit', () => {
  for (let c = 0; c <= 0xffff; c++)
    assert.equal(isSpace(c), /\s/.test(String.fromCharCode(c)), c.toString(16));
});

test('files the streaming reader cannot split are read as one document', () => {
  // An anchor in one item used by another, and a flow-style list.
  const aliased = parse(
    'targets:\n  - id: a\n    url: https://x/\n    headers: &h { x-team: ops }\n  - id: b\n    url: https://y/\n    headers: *h\n',
  );
  assert.deepEqual((aliased[1] as HttpTarget).headers, { 'x-team': 'ops' });
  assert.deepEqual(
    parse('targets: [{ id: a, url: "https://x/" }]').map((t) => t.id),
    ['a'],
  );
});

test('simple items are read without the YAML library to exactly its values; anything else goes to it', () => {
  const library = (lines: string[]) => {
    const doc = parseDocument(lines.join('\n'));
    return doc.errors.length > 0 ? 'error' : (doc.toJS() as unknown[])[0];
  };
  // Each value, after `k: ` in an item: what the fast path reads must be what the library reads.
  const values = [
    'http://127.0.0.1:8080/a?b=c#frag',
    'GET',
    'a b  ',
    '60',
    '0',
    '999999999999999',
    '"200-399"',
    "'x'",
    '"a # b"',
    "'it''s'",
    '"x\\"y"',
    '"a\\tb"',
    '"unterminated',
    "'open",
    'true',
    'True',
    'TRUE',
    'tRUE',
    'false',
    'null',
    'Null',
    'NULL',
    'nULL',
    '~',
    'yes',
    'no',
    'on',
    'off',
    'y',
    'n',
    '0x10',
    '0o17',
    '010',
    '00',
    '1.5',
    '.5',
    '-1',
    '+1',
    '1e3',
    '.inf',
    '-.inf',
    '.nan',
    '9999999999999999',
    '12345678901234567890',
    'a # b',
    'a#b',
    'a: b',
    'a:b',
    'x:',
    '&anchor x',
    '*alias',
    '!!str 5',
    '|',
    '>',
    '- x',
    '-x',
    '?x',
    '@x',
    '`x',
    '%x',
    '{a: 1}',
    '[a, b]',
    '[a,b]',
    '[a, b,]',
    '[a,,b]',
    '[]',
    '[ ]',
    '["200-399", "5xx"]',
    '[200, 300]',
    '[200-399]',
    '[true, null, x]',
    '[a b]',
    '[[a]]',
    '[\'a\', "b"]',
    '["a" "b"]',
    '[a',
    'a]',
    'x\\y',
    'Ünïcode',
    '"é"',
  ];
  let simple = 0;
  for (const value of values) {
    const lines = ['  - id: a', `    k: ${value}`];
    const fast = simpleItem(lines);
    if (fast === undefined) continue;
    simple += 1;
    assert.deepEqual(fast, library(lines), `k: ${value}`);
  }
  assert.ok(simple > 30, 'most plain values are read by the fast path');
  for (const value of [
    'http://x/',
    'GET',
    '60',
    '"200-399"',
    "'x'",
    'true',
    'null',
    '[a, b]',
    '["200-399"]',
    '[]',
  ])
    assert.notEqual(simpleItem(['  - id: a', `    k: ${value}`]), undefined, `k: ${value} is simple`);
  for (const value of [
    '0x10',
    '010',
    '~',
    '1.5',
    '1e3',
    '.inf',
    '-1',
    'a # b',
    '"a\\tb"',
    '[a, b,]',
    '{a: 1}',
    'x:',
  ])
    assert.equal(simpleItem(['  - id: a', `    k: ${value}`]), undefined, `k: ${value} goes to the library`);

  // Shapes of items: nested blocks, continuations, comments, duplicate keys, columns.
  const items: string[][] = [
    ['  - id: a', '    headers:', '      x-team: ops'],
    ['  - id: a', '    url: http://x', '      /more'],
    ['  - id: a', '    # a comment', '', '    url: http://x', '        # deeper'],
    ['  - id: a', '    url: http://x', '    url: http://y'],
    ['  - id: a', '     url: http://x'],
    ['  - id: a', '   url: http://x'],
    ['  -   id: a', '      url: http://x'],
    ['  - id: a # the id', '    url: http://x'],
    ['  -', '    id: a'],
    ['  - id: a', '    true: x'],
    ['  - id: a', '    "url": http://x'],
    ['  - id: a', '    url : http://x'],
    ['  - id: a', '    url:http://x'],
    ['  - id: a', '    url:'],
    ['  - id: a', '    url: '],
  ];
  for (const lines of items) {
    const fast = simpleItem(lines);
    if (fast !== undefined) assert.deepEqual(fast, library(lines), lines.join('\n'));
  }
  assert.deepEqual(simpleItem(items[2]!), { id: 'a', url: 'http://x' });
  assert.deepEqual(simpleItem(items[6]!), { id: 'a', url: 'http://x' });
  for (const i of [0, 1, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14])
    assert.equal(simpleItem(items[i]!), undefined, items[i]!.join('\n'));
});

test('a file read item by item gives what the whole document gives, problems on the same lines', () => {
  const text = `# mixed
targets:
  - id: plain
    url: http://x.example/a#frag
    intervalSeconds: 30
    expectStatus: ["200-399", "418"]
    tags: [a, b]
  - id: nested
    url: https://y.example/
    headers:
      x-team: ops
  - id: quoted # a comment
    url: 'https://z.example/'
    pattern: "ok: yes"
    ignoreTlsErrors: true

  - id: p1
    kind: push
    pushToken: abcdefghijklmnop
channels:
  - id: ops
    name: Ops
    url: json://hooks.example/x
`;
  // A document start marker makes the reader hand the whole file to the library.
  assert.deepEqual(parse(text), parse(`---\n${text}`));
  assert.deepEqual(
    parse(text).map((t) => t.id),
    ['plain', 'nested', 'quoted', 'p1'],
  );
  // The file-wide pushToken check, and a problem in a section after the targets, keep their lines.
  rejects(
    `${text}  - id: ops\n    name: Again\n    url: json://hooks.example/y\n`,
    /^targets\.yaml:24: channels\[1\]\.id ops repeats channels\[0\]/,
  );
  rejects(
    text.replace('channels:', '  - id: p2\n    kind: push\n    pushToken: abcdefghijklmnop\nchannels:'),
    /^targets\.yaml:\d+: targets p1 and p2 have the same pushToken/,
  );
  // Values the fast path leaves to the library are read by it (0x10 is 16), and a bad value in a
  // simple item is named on its line by the library, as for any other.
  assert.equal(parse(text.replace('intervalSeconds: 30', 'intervalSeconds: 0x10'))[0]!.intervalSeconds, 16);
  rejects(
    text.replace('intervalSeconds: 30', 'intervalSeconds: yes'),
    /^targets\.yaml:5: targets\[0\]\.intervalSeconds/,
  );
  rejects(
    text.replace('id: quoted', 'id: plain'),
    /^targets\.yaml:12: targets\[2\]\.id plain repeats targets\[0\]/,
  );
});

test('simple items agree with the YAML library on random values (property)', () => {
  const library = (lines: string[]) => {
    const doc = parseDocument(lines.join('\n'));
    return doc.errors.length > 0 ? 'error' : (doc.toJS() as unknown[])[0];
  };
  // Characters that mean something to YAML beside plain ones, so most strings probe an edge.
  const char = fc.constantFrom(...'aZz09_-./: #"\'[],{}!&*?|>%@`~\\+eE'.split(''));
  const value = fc.oneof(
    fc.string({ unit: char, minLength: 1, maxLength: 12 }),
    fc.constantFrom('true', 'False', 'NULL', 'yes', '0', '007', '0x1F', '1_000', '.5', '5.', '-0'),
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom('url', 'k', 'method', 'x_1'), value), { maxLength: 4 }),
      (pairs) => {
        const lines = ['  - id: a', ...pairs.map(([k, v]) => `    ${k}: ${v}`)];
        const fast = simpleItem(lines);
        if (fast !== undefined) assert.deepEqual(fast, library(lines), lines.join('\n'));
      },
    ),
    { numRuns: 5000 },
  );
});
