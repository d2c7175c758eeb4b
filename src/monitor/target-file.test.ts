import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BeaconError } from '../errors/catalog.ts';
import { parseTargetsFile } from './target-file.ts';

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
