import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupsText, parseGroups } from './status-pages-api.ts';

test('groups are typed one a line, as target ids or a #tag, and shown back the same way', () => {
  const text = 'Web: shop, api\nInternal:#db\n\n  Edge: cdn  ';
  const groups = parseGroups(text);
  assert.deepEqual(groups, [
    { name: 'Web', targets: ['shop', 'api'] },
    { name: 'Internal', tag: 'db' },
    { name: 'Edge', targets: ['cdn'] },
  ]);
  assert.deepEqual(parseGroups(groupsText(groups)), groups);
  assert.throws(() => parseGroups('no colon here'), /Name: target/);
});
