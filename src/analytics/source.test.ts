import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECT, pagePath, parseSource } from './source.ts';

const own = ['shop.example'];

test('known referrers get their name; others their host; none is Direct', () => {
  assert.equal(
    parseSource('https://shop.example/', 'https://www.google.com/search?q=x', own).source,
    'Google',
  );
  assert.equal(parseSource('https://shop.example/', 'https://t.co/abc', own).source, 'Twitter');
  assert.equal(
    parseSource('https://shop.example/', 'https://news.ycombinator.com/item?id=1', own).source,
    'Hacker News',
  );
  const blog = parseSource('https://shop.example/', 'https://www.blog.example/post/1?x=y#z', own);
  assert.equal(blog.source, 'blog.example');
  assert.equal(blog.referrer, 'blog.example/post/1');
  assert.equal(parseSource('https://shop.example/', '', own).source, DIRECT);
});

test('the site’s own hosts are navigation, not a source', () => {
  assert.equal(parseSource('https://shop.example/b', 'https://shop.example/a', own).source, DIRECT);
  assert.equal(parseSource('https://shop.example/b', 'https://www.shop.example/a', own).source, DIRECT);
  assert.equal(parseSource('https://shop.example/b', 'https://eu.shop.example/a', own).referrer, '');
});

test('UTM parameters win over the referrer', () => {
  const s = parseSource(
    'https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=launch',
    'https://mail.example/',
    own,
  );
  assert.deepEqual(
    { source: s.source, utmSource: s.utmSource, utmMedium: s.utmMedium, utmCampaign: s.utmCampaign },
    { source: 'newsletter', utmSource: 'newsletter', utmMedium: 'email', utmCampaign: 'launch' },
  );
  assert.equal(parseSource('https://shop.example/?ref=producthunt', '', own).source, 'producthunt');
});

test('pages are grouped by path; hash routes are kept, other fragments and queries are not', () => {
  assert.equal(pagePath('https://shop.example/a/b?x=1#top'), '/a/b');
  assert.equal(pagePath('https://shop.example/app#/settings'), '/app#/settings');
  assert.equal(pagePath('not a url'), '/');
});
