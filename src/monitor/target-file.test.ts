import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BeaconError } from '../errors/catalog.ts';
import type { HttpTarget, Target } from './target.ts';
import { parseTargetsFile, TargetsFileReader } from './target-file.ts';

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

test('a file of many targets is read in groups with the same result, each group reported as it is valid', () => {
  const batches: number[] = [];
  const handed: Target[] = [];
  const reader = new TargetsFileReader('targets.yaml', tenants, 1000, (b) => {
    batches.push(b.length);
    handed.push(...b);
  });
  for (const line of bigFile(1000).split('\n')) reader.line(line);
  const defined = reader.finish()!;
  assert.equal(defined.targets.length, 1000);
  // Held compactly until stored (issue 20): what comes back is what was read, as often as asked.
  assert.deepEqual([...defined.targets], handed);
  assert.deepEqual([...defined.targets], handed);
  assert.deepEqual(
    [...defined.targets].slice(0, 4).map((t) => [t.id, t.tags]),
    [
      ['t0', ['a', 'b']],
      ['t1', []],
      ['t2', []],
      ['t3', ['a', 'b']],
    ],
  );
  assert.equal(defined.channels.length, 1, 'the sections after the targets are read too');
  assert.equal(
    batches.reduce((a, b) => a + b, 0),
    1000,
  );
  assert.ok(batches.length > 10, 'targets are handed on in groups, not all at the end');
});

test('a problem late in a large file names its line and item', () => {
  // Item 4,321 starts on line 2 + lines before it: 2 per item, +2 for every third (tags and a blank).
  const text = bigFile(5000, 4321);
  const line = text.split('\n').findIndex((l) => l.includes('intervalSecs')) + 1;
  rejects(text, new RegExp(`^targets\\.yaml:${line}: targets\\[4321\\]\\.intervalSecs is not a known field`));
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
