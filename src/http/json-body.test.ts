import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonBody, splitObjectArray } from './json-body.ts';

test('an array of objects splits into the text of each, whitespace and nesting included', () => {
  const items = [{ a: 1 }, { b: '}],"\\"[{' }, { c: [1, { d: [] }], e: 'ü✓\n' }, {}];
  const text = ` [ ${items.map((i) => JSON.stringify(i, null, 1)).join(' ,\n')} ]\n`;
  const split = splitObjectArray(text)!;
  assert.equal(split.length, items.length);
  assert.deepEqual(
    split.map((s) => JSON.parse(s) as unknown),
    items,
  );
  assert.deepEqual(splitObjectArray('[]'), []);
  assert.deepEqual(splitObjectArray(' [ ] '), []);
});

test('anything but a plain array of objects is left to the full parse', () => {
  for (const text of [
    '',
    '{}',
    '[1]',
    '[{"a":1}, 2]',
    '[{"a":1} {"b":2}]',
    '[{"a":1},]',
    '[{"a":1}',
    '[{"a":"1}]',
    '[{"a":1}] x',
    '[{"a":1}]]',
    '[[{"a":1}]]',
    'null',
  ]) {
    assert.equal(splitObjectArray(text), undefined, text);
  }
});

test('every text the splitter accepts whose items parse is a JSON array of those items', () => {
  // Items are only bracket-matched here, so the caller parses each: an item that is not JSON fails
  // there, and the full parse then names the error.
  const split = splitObjectArray('[{"a":1},{"b":tru}]')!;
  assert.equal(split.length, 2);
  assert.throws(() => JSON.parse(split[1]!) as unknown);
  assert.throws(() => parseJsonBody('[{"a":1},{"b":tru}]'), { code: 'BAD_JSON' });
  assert.throws(() => parseJsonBody(''), { code: 'BAD_JSON', message: 'the body is empty' });
  assert.deepEqual(parseJsonBody('[1]'), [1]);
});
