// Every channel kind against a local server that answers as its service does: the method, path,
// auth and body it expects, and its own error answers (a bad token, a rate limit with Retry-After,
// Slack's and Telegram's 200-with-error). E-mail goes to a real SMTP server on loopback.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { resolveChannel } from '../src/notify/channels.ts';
import { sendContext } from '../src/notify/deliverer.ts';
import { compose } from '../src/notify/message.ts';
import type { Notification } from '../src/notify/notification.ts';
import type { Outcome } from '../src/notify/providers/provider.ts';
import { selfSignedCert } from './helpers/farm.ts';
import { startReceiver, type Answer, type Received, type Receiver } from './helpers/receiver.ts';

const note = (patch: Partial<Notification> = {}): Notification => ({
  source: 'monitor',
  subject: 'web',
  event: 'target.down',
  severity: 'critical',
  action: 'trigger',
  dedupKey: 'beacon:default:web',
  title: 'Web is down',
  text: 'https://example.com failed 3 checks in a row (local): refused',
  fields: { regions: 'local', cause: 'refused' },
  link: 'https://beacon.example/uptime?target=web',
  at: Date.UTC(2026, 0, 2, 3, 4, 5),
  ...patch,
});

/** What each emulated service does with a request: answers as the real one would. */
type Service = (req: Received) => Answer;

let server: Receiver;
/** The service the next request goes to, and whether it is rate limiting. */
let service: Service = () => ({ status: 500 });
let limited = false;

before(async () => {
  server = await startReceiver((req) =>
    limited
      ? { status: 429, headers: { 'retry-after': '7' }, body: '{"message":"slow down"}' }
      : service(req),
  );
});
after(() => server.close());

const base = () => `http://127.0.0.1:${server.port}`;
const context = () =>
  sendContext(
    5000,
    Object.fromEntries(
      ['slack', 'discord', 'telegram', 'pushover', 'pagerduty', 'opsgenie', 'gchat', 'ntfy'].map((k) => [
        k,
        base(),
      ]),
    ),
  );

async function send(
  url: string,
  notification = note(),
  template?: string,
): Promise<{ outcome: Outcome; req: Received }> {
  const before = server.received.length;
  const outcome = await resolveChannel({ url, ...(template ? { template } : {}) }).send(
    compose('msg-1', [notification]),
    context(),
  );
  return { outcome, req: server.received[before]! };
}

/** The three things every channel must do: send, fail for good on a bad secret, wait on a 429. */
async function contract(good: string, bad: string, secret: string): Promise<Received> {
  const ok = await send(good);
  assert.equal(ok.outcome.ok, true, `sent: ${ok.outcome.answer}`);
  const refused = await send(bad);
  assert.equal(refused.outcome.ok, false);
  assert.equal(
    !refused.outcome.ok && refused.outcome.retry,
    false,
    `a bad secret is final: ${refused.outcome.answer}`,
  );
  limited = true;
  try {
    const slow = await send(good);
    assert.ok(!slow.outcome.ok && slow.outcome.retry, 'a 429 is worth retrying');
    assert.equal(!slow.outcome.ok && slow.outcome.retryAfterMs, 7000, "the service's Retry-After");
  } finally {
    limited = false;
  }
  assert.ok(!resolveChannel({ url: good }).summary.includes(secret), 'the summary shows no secret');
  return ok.req;
}

const bearer = (req: Received) => req.headers.authorization;

describe('channels speak each service’s API', () => {
  test('json:// webhook: POST JSON, basic auth, headers, extra fields, and a template', async () => {
    service = (req) =>
      req.headers.authorization === `Basic ${Buffer.from('u:pw-secret').toString('base64')}`
        ? { status: 204 }
        : { status: 401, body: 'who are you' };
    const req = await contract(
      `json://u:pw-secret@127.0.0.1:${server.port}/hooks/abc?-X-Team=ops&:env=prod`,
      `json://u:wrong@127.0.0.1:${server.port}/hooks/abc`,
      'pw-secret',
    );
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/hooks/abc');
    assert.equal(req.headers['x-team'], 'ops');
    const body = req.json as { title: string; env: string; items: { event: string }[]; count: number };
    assert.equal(body.title, 'Web is down');
    assert.equal(body.env, 'prod');
    assert.equal(body.count, 1);
    assert.equal(body.items[0]!.event, 'target.down');

    const templated = await send(
      `json://u:pw-secret@127.0.0.1:${server.port}/hooks/abc`,
      note(),
      JSON.stringify({
        summary: '{{title}} ({{severity}})',
        alerts: '{{items}}',
        n: 1,
        quote: 'say "{{text}}"',
      }),
    );
    assert.equal(templated.outcome.ok, true);
    const t = templated.req.json as { summary: string; alerts: unknown[]; quote: string };
    assert.equal(t.summary, 'Web is down (critical)');
    assert.equal(t.alerts.length, 1);
    assert.equal(t.quote, `say "${note().text}"`, 'a value cannot break the JSON it goes into');
    assert.throws(() => resolveChannel({ url: 'json://h/x', template: '{nope' }), /template is not JSON/);
  });

  test('slack:// incoming webhook, and a bot token whose errors come as 200 {ok:false}', async () => {
    service = (req) => {
      if (req.path.startsWith('/services/')) {
        if (req.path !== '/services/T000/B000/XXXXsecret') return { status: 404, body: 'no_service' };
        return (req.json as { blocks?: unknown[] }).blocks
          ? { status: 200, body: 'ok' }
          : { status: 400, body: 'invalid_payload' };
      }
      if (req.path === '/api/chat.postMessage') {
        if (bearer(req) !== 'Bearer xoxb-good-token')
          return { status: 200, body: '{"ok":false,"error":"invalid_auth"}' };
        if ((req.json as { channel: string }).channel !== '#ops')
          return { status: 200, body: '{"ok":false,"error":"channel_not_found"}' };
        return { status: 200, body: '{"ok":true,"ts":"1.2"}' };
      }
      return { status: 404 };
    };
    const req = await contract('slack://T000/B000/XXXXsecret/#ops', 'slack://T000/B000/wrong', 'XXXXsecret');
    const body = req.json as { text: string; channel: string; blocks: { type: string }[] };
    assert.equal(body.channel, '#ops');
    assert.equal(body.blocks[0]!.type, 'header');
    const bot = await send('slack://xoxb-good-token/#ops');
    assert.equal(bot.outcome.ok, true);
    assert.equal(bot.req.path, '/api/chat.postMessage');
    const badBot = await send('slack://xoxb-bad-token/#ops');
    assert.ok(!badBot.outcome.ok && !badBot.outcome.retry && /invalid_auth/.test(badBot.outcome.answer));
    service = () => ({
      status: 200,
      body: '{"ok":false,"error":"ratelimited"}',
      headers: { 'retry-after': '3' },
    });
    const rl = await send('slack://xoxb-good-token/#ops');
    assert.ok(!rl.outcome.ok && rl.outcome.retry && rl.outcome.retryAfterMs === 3000);
  });

  test('discord:// webhook: one embed; a 429 tells its wait in the body', async () => {
    service = (req) => {
      if (req.path !== '/api/webhooks/1234567/tok-secret?wait=true')
        return { status: 404, body: '{"message":"Unknown Webhook","code":10015}' };
      return { status: 200, body: '{"id":"1"}' };
    };
    const req = await contract('discord://1234567/tok-secret', 'discord://1234567/nope', 'tok-secret');
    const embed = (req.json as { embeds: { title: string; color: number; fields: unknown[] }[] }).embeds[0]!;
    assert.equal(embed.title, 'Web is down');
    assert.equal(embed.color, 0xd92d20);
    service = () => ({
      status: 429,
      body: '{"message":"You are being rate limited.","retry_after":1.5,"global":false}',
    });
    const rl = await send('discord://1234567/tok-secret');
    assert.ok(!rl.outcome.ok && rl.outcome.retryAfterMs === 1500);
  });

  test('workflows:// Microsoft Teams: an Adaptive Card to the flow, signed by sig', async () => {
    service = (req) => {
      const url = new URL(req.path, 'http://x');
      if (url.searchParams.get('sig') !== 'sig-secret')
        return { status: 401, body: '{"error":{"code":"DirectApiAuthorizationRequired"}}' };
      return { status: 202 };
    };
    const req = await contract(
      `workflow://127.0.0.1:${server.port}/wf123/sig-secret`,
      `workflow://127.0.0.1:${server.port}/wf123/bad`,
      'sig-secret',
    );
    assert.ok(req.path.startsWith('/workflows/wf123/triggers/manual/paths/invoke?api-version=2016-06-01'));
    const att = (
      req.json as { type: string; attachments: { contentType: string; content: { type: string } }[] }
    ).attachments[0]!;
    assert.equal(att.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(att.content.type, 'AdaptiveCard');
    const full = await send(
      `workflow://127.0.0.1:${server.port}/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=sig-secret`,
    );
    assert.equal(full.outcome.ok, true);
    assert.ok(full.req.path.startsWith('/powerautomate/automations/direct/workflows/abc/'));
  });

  test('tgram:// Telegram: sendMessage as HTML; errors and waits in its JSON', async () => {
    service = (req) => {
      if (!req.path.startsWith('/bot123456:AAtoken-secret/'))
        return { status: 401, body: '{"ok":false,"error_code":401,"description":"Unauthorized"}' };
      if ((req.json as { chat_id: string }).chat_id !== '-100123')
        return {
          status: 400,
          body: '{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}',
        };
      return { status: 200, body: '{"ok":true,"result":{"message_id":1}}' };
    };
    const req = await contract(
      'tgram://123456:AAtoken-secret/-100123',
      'tgram://123456:AAwrong/-100123',
      'AAtoken-secret',
    );
    assert.equal(req.path, '/bot123456:AAtoken-secret/sendMessage');
    const body = req.json as { parse_mode: string; text: string };
    assert.equal(body.parse_mode, 'HTML');
    assert.match(body.text, /^<b>Web is down<\/b>/);
    service = () => ({
      status: 429,
      body: '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}',
    });
    const rl = await send('tgram://123456:AAtoken-secret/-100123');
    assert.ok(!rl.outcome.ok && rl.outcome.retry && rl.outcome.retryAfterMs === 5000);
  });

  test('ntfy:// topic: JSON publish with priority and tags, token auth', async () => {
    service = (req) =>
      bearer(req) === 'Bearer tk_secret'
        ? { status: 200, body: '{"id":"x"}' }
        : { status: 403, body: '{"code":40301,"http":403,"error":"forbidden"}' };
    const req = await contract(
      `ntfy://127.0.0.1:${server.port}/alerts?token=tk_secret`,
      `ntfy://127.0.0.1:${server.port}/alerts?token=tk_bad`,
      'tk_secret',
    );
    const body = req.json as { topic: string; priority: number; tags: string[]; click: string };
    assert.deepEqual(
      [req.path, body.topic, body.priority, body.tags],
      ['/', 'alerts', 5, ['rotating_light']],
    );
    assert.equal(body.click, note().link);
    service = () => ({ status: 200, body: '{}' });
    assert.equal(
      (await send('ntfy://mytopic')).req.path,
      '/',
      'ntfy://topic publishes to ntfy.sh (here its stand-in)',
    );
  });

  test('gotify:// message API with X-Gotify-Key', async () => {
    service = (req) =>
      req.headers['x-gotify-key'] === 'AppTokenSecret'
        ? { status: 200, body: '{"id":1}' }
        : {
            status: 401,
            body: '{"error":"Unauthorized","errorCode":401,"errorDescription":"you need to provide a valid access token"}',
          };
    const req = await contract(
      `gotify://127.0.0.1:${server.port}/AppTokenSecret`,
      `gotify://127.0.0.1:${server.port}/Wrong`,
      'AppTokenSecret',
    );
    assert.equal(req.path, '/message');
    assert.equal((req.json as { priority: number }).priority, 8);
  });

  test('pover:// Pushover: a form post with token and user', async () => {
    const user = 'u'.repeat(30);
    const token = 'a'.repeat(30);
    service = (req) => {
      const form = new URLSearchParams(req.body);
      return form.get('token') === token && form.get('user') === user
        ? { status: 200, body: '{"status":1,"request":"r"}' }
        : { status: 400, body: '{"user":"invalid","errors":["user identifier is invalid"],"status":0}' };
    };
    const req = await contract(`pover://${user}@${token}/phone`, `pover://${'x'.repeat(30)}@${token}`, token);
    assert.equal(req.path, '/1/messages.json');
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(new URLSearchParams(req.body).get('device'), 'phone');
  });

  test('pagerduty:// Events v2: trigger then resolve with the same dedup key', async () => {
    const key = 'R'.repeat(32);
    service = (req) =>
      (req.json as { routing_key: string }).routing_key === key
        ? { status: 202, body: '{"status":"success","message":"Event processed","dedup_key":"k"}' }
        : {
            status: 400,
            body: '{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}',
          };
    const req = await contract(`pagerduty://${key}`, `pagerduty://${'W'.repeat(32)}`, key);
    const ev = req.json as {
      event_action: string;
      dedup_key: string;
      payload: { severity: string; summary: string };
    };
    assert.deepEqual(
      [req.path, ev.event_action, ev.dedup_key, ev.payload.severity],
      ['/v2/enqueue', 'trigger', 'beacon:default:web', 'critical'],
    );
    const resolved = await send(
      `pagerduty://${key}`,
      note({ action: 'resolve', event: 'target.up', severity: 'ok' }),
    );
    const r = resolved.req.json as { event_action: string; dedup_key: string; payload?: unknown };
    assert.deepEqual([r.event_action, r.dedup_key, r.payload], ['resolve', 'beacon:default:web', undefined]);
  });

  test('opsgenie:// Alert API: create with alias and responders, close by alias', async () => {
    const key = 'a1b2c3d4-e5f6-4711-8abc-0123456789ab';
    service = (req) =>
      req.headers.authorization === `GenieKey ${key}`
        ? { status: 202, body: '{"result":"Request will be processed","took":0.1,"requestId":"r"}' }
        : { status: 401, body: '{"message":"Key format is not valid!","took":0.0,"requestId":"r"}' };
    const req = await contract(`opsgenie://${key}/%23ops/@ann`, `opsgenie://${'b'.repeat(36)}`, key);
    const body = req.json as { alias: string; priority: string; responders: unknown[] };
    assert.equal(req.path, '/v2/alerts');
    assert.equal(body.priority, 'P1');
    assert.deepEqual(body.responders, [
      { type: 'team', name: 'ops' },
      { type: 'user', username: 'ann' },
    ]);
    const closed = await send(`opsgenie://${key}`, note({ action: 'resolve', severity: 'ok' }));
    assert.equal(closed.req.path, '/v2/alerts/beacon%3Adefault%3Aweb/close?identifierType=alias');
  });

  test('matrix:// room message with the message id as transaction id; an alias is resolved first', async () => {
    service = (req) => {
      if (bearer(req) !== 'Bearer syt_secret')
        return { status: 401, body: '{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token"}' };
      if (req.path.startsWith('/_matrix/client/v3/directory/room/'))
        return { status: 200, body: '{"room_id":"!abc:example.org"}' };
      return { status: 200, body: '{"event_id":"$e"}' };
    };
    const req = await contract(
      `matrix://syt_secret@127.0.0.1:${server.port}/!abc:example.org`,
      `matrix://nope@127.0.0.1:${server.port}/!abc:example.org`,
      'syt_secret',
    );
    assert.equal(req.method, 'PUT');
    assert.equal(req.path, '/_matrix/client/v3/rooms/!abc%3Aexample.org/send/m.room.message/msg-1');
    assert.equal((req.json as { msgtype: string }).msgtype, 'm.notice');
    const alias = await send(`matrix://syt_secret@127.0.0.1:${server.port}/#ops:example.org`);
    assert.equal(alias.outcome.ok, true);
    assert.equal(alias.req.path, '/_matrix/client/v3/directory/room/%23ops%3Aexample.org');
    service = () => ({
      status: 429,
      body: '{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2500}',
    });
    const rl = await send(`matrix://syt_secret@127.0.0.1:${server.port}/!abc:example.org`);
    assert.ok(!rl.outcome.ok && rl.outcome.retryAfterMs === 2500);
  });

  test('mmost:// Mattermost incoming webhook', async () => {
    service = (req) =>
      req.path === '/hooks/goodtoken123'
        ? { status: 200, body: 'ok' }
        : {
            status: 400,
            body: '{"id":"web.incoming_webhook.invalid.app_error","message":"Invalid webhook.","status_code":400}',
          };
    const req = await contract(
      `mmost://127.0.0.1:${server.port}/goodtoken123?channel=ops`,
      `mmost://127.0.0.1:${server.port}/badtoken`,
      'goodtoken123',
    );
    assert.equal((req.json as { channel: string }).channel, 'ops');
    assert.match((req.json as { text: string }).text, /^#### Web is down/);
  });

  test('gchat:// Google Chat space webhook: key and token in the query', async () => {
    service = (req) => {
      const url = new URL(req.path, 'http://x');
      return url.searchParams.get('token') === 'tok-secret'
        ? { status: 200, body: '{"name":"spaces/AAA/messages/1"}' }
        : {
            status: 403,
            body: '{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}',
          };
    };
    const req = await contract(
      'gchat://AAA/key-secret/tok-secret',
      'gchat://AAA/key-secret/wrong',
      'tok-secret',
    );
    assert.ok(req.path.startsWith('/v1/spaces/AAA/messages?key=key-secret&token=tok-secret'));
    assert.match((req.json as { text: string }).text, /^\*Web is down\*/);
  });

  test('a secret the service echoes back is scrubbed from the stored answer', async () => {
    service = (req) => ({ status: 401, body: `bad token ${req.path}` });
    const { outcome } = await send('discord://1234567/tok-secret');
    assert.ok(!outcome.ok);
    assert.doesNotMatch(outcome.answer, /tok-secret/);
    assert.match(outcome.answer, /\*\*\*\*/);
  });

  test('URLs a provider cannot use are refused with the reason', () => {
    for (const [url, reason] of [
      ['nope://x', /unknown service/],
      ['slack://only-one', /TokenA\/TokenB\/TokenC/],
      ['tgram://nocolon/123', /BotToken/],
      ['mailtos://smtp.example.com', /recipients/],
      ['pagerduty://short', /IntegrationKey/],
      ['matrix://tok@host/room', /!id:server/],
    ] as const) {
      assert.throws(
        () => resolveChannel({ url }),
        (err: Error & { code?: string }) => err.code === 'CHANNEL_INVALID' && reason.test(err.message),
      );
    }
  });
});

describe('mailto:// and mailtos:// against a real SMTP server on loopback', () => {
  let key: string;
  let cert: string;
  const mails: { from: string; to: string[]; data: string; user: string | undefined; secure: boolean }[] = [];
  const servers: SMTPServer[] = [];

  before(() => {
    ({ key, cert } = selfSignedCert(2));
  });
  after(async () => {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  async function smtp(options: { secure: boolean; authOptional?: boolean }): Promise<number> {
    const s = new SMTPServer({
      secure: options.secure,
      key,
      cert,
      authOptional: options.authOptional ?? false,
      onAuth(auth, _session, done) {
        if (auth.username === 'alerts@example.com' && auth.password === 'smtp-secret')
          done(null, { user: auth.username });
        else done(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onData(stream, session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString(),
            user: session.user as string | undefined,
            secure: session.secure,
          });
          done();
        });
      },
    });
    // A client that refuses the certificate hangs up mid-handshake; the server reports it as an error.
    s.on('error', () => undefined);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    return (s.server.address() as AddressInfo).port;
  }

  test('STARTTLS with auth delivers; a wrong password is final (535)', async () => {
    const port = await smtp({ secure: false });
    const url = `mailtos://alerts%40example.com:smtp-secret@127.0.0.1:${port}?to=ops@example.com,oncall@example.com&verify=no`;
    const ok = await resolveChannel({ url }).send(compose('m1', [note()]), context());
    assert.equal(ok.ok, true, ok.answer);
    const mail = mails.at(-1)!;
    assert.deepEqual(
      [mail.from, mail.to, mail.user, mail.secure],
      ['alerts@example.com', ['ops@example.com', 'oncall@example.com'], 'alerts@example.com', true],
    );
    assert.match(mail.data, /Subject: Web is down/);
    const bad = await resolveChannel({ url: url.replace('smtp-secret', 'wrong') }).send(
      compose('m2', [note()]),
      context(),
    );
    assert.ok(!bad.ok && !bad.retry, bad.answer);
    assert.match(bad.answer, /535/);
    assert.ok(!resolveChannel({ url }).summary.includes('smtp-secret'));
  });

  test('mode=ssl: TLS from the first byte; an unverifiable certificate is refused unless verify=no', async () => {
    const port = await smtp({ secure: true });
    const url = `mailtos://alerts%40example.com:smtp-secret@127.0.0.1:${port}?mode=ssl&to=ops@example.com`;
    const refused = await resolveChannel({ url }).send(compose('m3', [note()]), context());
    assert.ok(!refused.ok, 'self-signed certificate refused');
    const ok = await resolveChannel({ url: `${url}&verify=no` }).send(compose('m4', [note()]), context());
    assert.equal(ok.ok, true, ok.answer);
    assert.equal(mails.at(-1)!.secure, true);
  });

  test('a server that is not there is worth retrying', async () => {
    const port = await smtp({ secure: false });
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    const down = await resolveChannel({ url: `mailto://127.0.0.1:${port}?to=ops@example.com` }).send(
      compose('m5', [note()]),
      context(),
    );
    assert.ok(!down.ok && down.retry, down.answer);
  });
});
