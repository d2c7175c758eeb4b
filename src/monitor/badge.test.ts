import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BADGE_COLORS, certFace, responseFace, statusFace, uptimeColor, uptimeFace } from './badge.ts';
import { badgeSvg, escapeXml, textWidth } from './badge-svg.ts';

const DAY = 86_400_000;

test('text is measured in Verdana 11px, unknown characters as wide as "@"', () => {
  assert.equal(textWidth('50.00%'), 7 * 4 + 4 + 12);
  assert.equal(textWidth('up'), 7 + 6.9);
  assert.equal(textWidth('€'), 11);
  assert.equal(textWidth(''), 0);
});

test('a badge is as wide as its texts plus 5px a side, odd widths, and escapes its text', () => {
  const svg = badgeSvg({ label: 'a<b', value: '"x" & y', color: '#66c20a' });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="'));
  const label = Math.ceil(textWidth('a<b')) | 1;
  const value = Math.ceil(textWidth('"x" & y')) | 1;
  assert.match(svg, new RegExp(`^<svg [^>]*width="${label + value + 20}"`));
  assert.ok(svg.includes('>a&lt;b</text>'));
  assert.ok(svg.includes('>&quot;x&quot; &amp; y</text>'));
  assert.ok(!svg.includes('a<b'));
  assert.equal(escapeXml(`<'&">`), '&lt;&apos;&amp;&quot;&gt;');
});

test('status faces use Uptime Kuma’s colours, pending before the first check', () => {
  assert.deepEqual(statusFace('up'), { label: 'status', value: 'up', color: BADGE_COLORS.up });
  assert.equal(statusFace('down').color, '#c2290a');
  assert.equal(statusFace('unknown').value, 'pending');
  assert.equal(statusFace('maintenance').color, BADGE_COLORS.maintenance);
  assert.equal(statusFace('paused').value, 'paused');
});

test('uptime colours run from the down colour at 0 % to the up colour at 100 %', () => {
  assert.equal(uptimeColor(100), BADGE_COLORS.up);
  assert.equal(uptimeColor(0), BADGE_COLORS.down);
  assert.deepEqual(uptimeFace('uptime-24h', 50), { label: 'uptime 24h', value: '50.00%', color: '#c2a30a' });
  assert.equal(uptimeFace('uptime-30d', 99.9999).value, '99.99%');
  assert.deepEqual(uptimeFace('uptime-7d', null), { label: 'uptime 7d', value: 'no data', color: '#999' });
});

test('response and certificate faces', () => {
  assert.deepEqual(responseFace('24h', 123.4), { label: 'response 24h', value: '123ms', color: '#007ec6' });
  assert.equal(responseFace('last', null).value, 'no data');
  const now = 1_700_000_000_000;
  assert.deepEqual(certFace(now + 30 * DAY + 5, now), {
    label: 'cert expiry',
    value: '30 days',
    color: BADGE_COLORS.up,
  });
  assert.equal(certFace(now + 10 * DAY, now).color, BADGE_COLORS.warn);
  assert.equal(certFace(now + 1.5 * DAY, now).value, '1 day');
  assert.equal(certFace(now + 1.5 * DAY, now).color, BADGE_COLORS.down);
  assert.equal(certFace(now - 1, now).value, 'expired');
  assert.equal(certFace(null, now).value, 'no data');
});
