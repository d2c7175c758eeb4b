import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBot, parseUserAgent } from './user-agent.ts';

test('device, browser and OS come from the user agent', () => {
  assert.deepEqual(
    parseUserAgent(
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
    ),
    { device: 'desktop', browser: 'Chrome', os: 'Windows' },
  );
  assert.deepEqual(
    parseUserAgent(
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    ),
    { device: 'mobile', browser: 'Safari', os: 'iOS' },
  );
  assert.deepEqual(
    parseUserAgent('Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'),
    { device: 'desktop', browser: 'Firefox', os: 'Linux' },
  );
  assert.deepEqual(parseUserAgent(''), { device: '(unknown)', browser: '(unknown)', os: '(unknown)' });
});

test('crawlers, headless browsers and an empty user agent are bots; people are not', () => {
  assert.equal(isBot('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'), true);
  assert.equal(
    isBot(
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36',
    ),
    true,
  );
  assert.equal(isBot('curl/8.5.0'), true);
  assert.equal(isBot(''), true);
  assert.equal(
    isBot(
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    ),
    false,
  );
});
