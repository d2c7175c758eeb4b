import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCsv } from './csv.ts';

test('reads quoted fields, doubled quotes, line breaks in quotes, CRLF, a BOM and a trailing blank line', () => {
  const text = '\ufeffdate,page,visitors\r\n2026-01-02,"/a,b",3\r\n2026-01-03,"say ""hi""\nthere",4\n\n';
  const { columns, records } = readCsv(text);
  assert.deepEqual(columns, ['date', 'page', 'visitors']);
  assert.deepEqual(
    [...records].map((r) => [r.line, r.values.page]),
    [
      [2, '/a,b'],
      [3, 'say "hi"\nthere'],
    ],
  );
});

test('a row with the wrong number of fields, or an unclosed quote, names its line', () => {
  assert.throws(() => [...readCsv('a,b\n1,2\n3\n').records], /line 3: 1 fields where the header has 2/);
  assert.throws(() => [...readCsv('a,b\n1,"2\n').records], /line 2: a quoted field is not closed/);
  assert.throws(() => [...readCsv('a\n"x"y\n').records], /line 2: text after a closing quote/);
});
