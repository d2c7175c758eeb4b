import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flag, parseChannelUrl } from './channel-url.ts';

test('channel URLs keep tokens with colons and # as written, and decode escapes', () => {
  const t = parseChannelUrl('tgram://123456:AAbb-CC_dd/-100123');
  assert.deepEqual(
    [t.scheme, t.host, t.port, t.segments],
    ['tgram', '123456:AAbb-CC_dd', undefined, ['-100123']],
  );
  const s = parseChannelUrl('slack://T0/B0/XyZ/#alerts');
  assert.deepEqual([s.host, s.segments], ['T0', ['B0', 'XyZ', '#alerts']]);
  const m = parseChannelUrl('MAILTOS://us%40er:p%3Ass@smtp.example.com:587?to=a@b.c');
  assert.deepEqual(
    [m.scheme, m.user, m.password, m.host, m.port, m.params.get('to')],
    ['mailtos', 'us@er', 'p:ss', 'smtp.example.com', 587, 'a@b.c'],
  );
  const v6 = parseChannelUrl('json://[::1]:8080/hook');
  assert.deepEqual([v6.host, v6.port, v6.segments], ['[::1]', 8080, ['hook']]);
  assert.throws(() => parseChannelUrl('slack:T0'), /service scheme/);
  assert.throws(() => parseChannelUrl('json://h:70000/'), /out of range/);
  assert.throws(() => parseChannelUrl('json://h/%E0%A4%A'), /malformed/);
  assert.equal(flag(new URLSearchParams('verify=no'), 'verify', true), false);
  assert.throws(() => flag(new URLSearchParams('verify=maybe'), 'verify', true), /yes or no/);
});
