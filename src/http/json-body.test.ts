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

test('JSON nested deeper than the limit is refused without touching the stack, at any depth', () => {
  const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  assert.deepEqual(parseJsonBody(`{"a":${nested(127)}}`, 128), { a: JSON.parse(nested(127)) as unknown });
  for (const levels of [129, 5_000, 1_000_000]) {
    assert.throws(() => parseJsonBody(nested(levels), 128), { code: 'JSON_TOO_DEEP', status: 400 });
  }
  // Brackets inside strings are text, not nesting.
  assert.deepEqual(parseJsonBody(`{"s":"${'['.repeat(500)}"}`, 2), { s: '['.repeat(500) });
});

test('a number a double cannot hold is refused, never stored as null', () => {
  for (const text of ['{"n":1e999999}', '[-1E400]', `{"n":${'9'.repeat(400)}}`, '{"a":{"b":[1,2,1e309]}}']) {
    assert.throws(() => parseJsonBody(text), { code: 'NUMBER_NOT_FINITE', status: 400 }, text);
  }
  assert.deepEqual(
    parseJsonBody('{"n":1e308,"m":-2.5e-300,"k":123456789012345678901234567890,"s":"1e999"}'),
    {
      n: 1e308,
      m: -2.5e-300,
      k: Number('123456789012345678901234567890'),
      s: '1e999',
    },
  );
});

test('an escaped half of a surrogate pair is refused; whole pairs and other escapes pass', () => {
  for (const text of ['{"s":"\\ud800"}', '{"s":"a\\udc00b"}', '["\\uD83D x"]', '{"s":"\\ud83d\\u0041"}']) {
    assert.throws(() => parseJsonBody(text), { code: 'INVALID_UNICODE', status: 400 }, text);
  }
  assert.deepEqual(parseJsonBody('{"s":"\\ud83d\\ude00 \\u00e9 \\\\ud800 \\"\\u0000"}'), {
    s: '😀 é \\ud800 "\u0000',
  });
});

test('strings full of escapes, quotes and brackets split exactly as JSON.parse reads them', () => {
  // A seeded generator: the same cases every run. Strings mix the characters the scanner looks for
  // (quotes, backslashes, brackets) with escapes and long plain runs, where indexOf jumps ahead.
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const pieces = ['"', '\\', '\\\\', '\\"', '}', ']', '[{', 'é', '😀', '\n', 'x'.repeat(300), 'ab'];
  const str = () => Array.from({ length: rnd(8) }, () => pieces[rnd(pieces.length)]).join('');
  for (let round = 0; round < 300; round++) {
    const items = Array.from({ length: 1 + rnd(5) }, () => ({
      [str()]: str(),
      nested: { list: [str(), { deep: str() }] },
    }));
    const text = `[${items.map((i) => JSON.stringify(i)).join(',')}]`;
    const split = splitObjectArray(text);
    assert.ok(split, text);
    assert.deepEqual(
      split.map((s) => JSON.parse(s) as unknown),
      items,
    );
    assert.deepEqual(parseJsonBody(text), items);
  }
});
