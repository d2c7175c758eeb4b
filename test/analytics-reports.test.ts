// Scheduled email reports, caught by a real SMTP server on loopback (smtp-server) that speaks
// STARTTLS with a throwaway certificate and wants a login: sent now, sent when due exactly once
// however many processes look, and retried with its error recorded when the server refuses.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { createMailSender } from '../src/analytics/report-mail.ts';
import { ReportWorker } from '../src/analytics/report-worker.ts';
import { CHROME_UA, createSite, query } from './helpers/analytics.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

interface Caught {
  readonly from: string;
  readonly to: string[];
  readonly raw: string;
}

const certs = mkdtempSync(join(tmpdir(), 'beacon-smtp-'));
const caught: Caught[] = [];
let server: SMTPServer;
let port: number;
let beacon: TestBeacon;

/** A CA and a certificate it signed for 127.0.0.1, made with openssl for this run only. */
function makeCertificates(): void {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: certs, stdio: 'ignore' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=Beacon test CA',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1,DNS:localhost" > ext.cnf'], { cwd: certs });
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  ]);
}

/** Quoted-printable text decoded, so figures can be looked for in it. */
const decodeQp = (s: string) =>
  s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

before(async () => {
  makeCertificates();
  server = new SMTPServer({
    key: readFileSync(join(certs, 'server.key')),
    cert: readFileSync(join(certs, 'server.pem')),
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'beacon' && auth.password === 's3cret') callback(null, { user: 'beacon' });
      else callback(new Error('invalid login'));
    },
    onRcptTo(address, _session, callback) {
      if (address.address === 'bounce@example.com') callback(new Error('mailbox unavailable'));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        // A login happened, and over TLS (STARTTLS was required of the client).
        assert.equal(session.user, 'beacon');
        assert.equal(session.secure, true);
        caught.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
  beacon = await startTestBeacon({
    'analytics.addressPerSecond': 0,
    'analytics.workerPollMs': 3_600_000,
    'analytics.smtp.host': '127.0.0.1',
    'analytics.smtp.port': port,
    'analytics.smtp.security': 'starttls',
    'analytics.smtp.user': 'beacon',
    'analytics.smtp.password': 's3cret',
    'analytics.smtp.from': 'Beacon <reports@beacon.example>',
    'analytics.smtp.caFile': join(certs, 'ca.pem'),
  });
});

after(async () => {
  await beacon?.destroy();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  rmSync(certs, { recursive: true, force: true });
});

test('a report sent now arrives over STARTTLS as HTML with a plain-text part, and its delivery is recorded', async () => {
  const site = await createSite(beacon, { domain: 'shop.example', timezone: 'Europe/Berlin' });
  const res = await fetch(beacon.url + '/v1/collect', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': CHROME_UA },
    body: JSON.stringify({ s: site, e: [{ n: 'pageview', u: 'https://shop.example/<b>', a: 0 }] }),
  });
  assert.equal(res.status, 202);
  await eventually(
    async () =>
      (await query(beacon, site, { metrics: ['pageviews'], dateRange: 'day' })).body.results[0]
        ?.metrics[0] === 1
        ? true
        : undefined,
    60_000,
    'the page view',
  );
  const report = (await (
    await beacon.request(`/v1/sites/${site}/reports`, {
      method: 'POST',
      json: { frequency: 'weekly', recipients: ['owner@example.com', 'team@example.com'] },
    })
  ).json()) as { id: string; nextAt: string };
  assert.ok(Date.parse(report.nextAt) > Date.now(), 'due when this week closes');
  const bad = await beacon.request(`/v1/sites/${site}/reports`, {
    method: 'POST',
    json: { frequency: 'daily', recipients: ['owner@example.com'] },
  });
  assert.equal(bad.status, 400);
  const badRecipient = await beacon.request(`/v1/sites/${site}/reports`, {
    method: 'POST',
    json: { frequency: 'weekly', recipients: ['not an address'] },
  });
  assert.equal(badRecipient.status, 400);

  const sent = await beacon.request(`/v1/sites/${site}/reports/${report.id}/send`, { method: 'POST' });
  assert.equal(sent.status, 202);
  const mail = await eventually(
    () => Promise.resolve(caught.find((m) => m.to.includes('owner@example.com'))),
    30_000,
    'the mail',
  );
  assert.equal(mail.from, 'reports@beacon.example');
  assert.deepEqual(mail.to, ['owner@example.com', 'team@example.com']);
  assert.match(mail.raw, /^Subject: shop\.example: \d+ visitors, \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}/m);
  assert.match(mail.raw, /Content-Type: multipart\/alternative/);
  const [, textPart, htmlPart] = mail.raw.split(/--[^\r\n]+\r?\n(?=Content-Type)/);
  assert.match(textPart ?? '', /^Content-Type: text\/plain/);
  assert.match(htmlPart ?? '', /^Content-Type: text\/html/);
  const text = decodeQp(textPart!);
  const html = decodeQp(htmlPart!);
  assert.match(text, /Visitors: \d+ \(/);
  assert.match(text, /Top pages:/);
  assert.match(html, /<h1[^>]*>shop\.example<\/h1>/);
  assert.ok(!html.includes('<b>'), 'page paths are escaped in HTML');

  const history = await eventually(
    async () => {
      const r = (await (await beacon.request(`/v1/sites/${site}/reports/${report.id}/mails`)).json()) as {
        items: { status: string; attempts: number; sentAt: string | null }[];
      };
      return r.items[0]?.status === 'sent' ? r.items : undefined;
    },
    30_000,
    'the delivery recorded',
  );
  assert.deepEqual([history.length, history[0]!.attempts, typeof history[0]!.sentAt], [1, 1, 'string']);
});

test('a due report is mailed once however many processes look, and a refused mail is retried with its error', async () => {
  const site = await createSite(beacon, { domain: 'due.example' });
  const made = (await (
    await beacon.request(`/v1/sites/${site}/reports`, {
      method: 'POST',
      json: { frequency: 'monthly', recipients: ['due@example.com'] },
    })
  ).json()) as { id: string };
  // The schedule's period closed a minute ago.
  const stored = (await beacon.store.analytics.report('default', site, made.id))!;
  await beacon.store.transaction((tx) => tx.analytics.putReport({ ...stored, nextAt: Date.now() - 60_000 }));
  const workers = Array.from(
    { length: 3 },
    () =>
      new ReportWorker({
        store: beacon.store,
        sender: createMailSender({
          host: '127.0.0.1',
          port,
          security: 'starttls',
          user: 'beacon',
          password: 's3cret',
          from: 'reports@beacon.example',
          caFile: join(certs, 'ca.pem'),
        }),
        query: { visitBudget: 100_000 },
        pollMs: 3_600_000,
        publicUrl: 'https://beacon.example',
        logger: pino({ level: 'silent' }),
      }),
  );
  try {
    await Promise.all(workers.map((w) => w.tick(Date.now())));
    await Promise.all(workers.map((w) => w.tick(Date.now())));
    const due = caught.filter((m) => m.to.includes('due@example.com'));
    assert.equal(due.length, 1, 'one mail for the period');
    assert.match(decodeQp(due[0]!.raw), /Dashboard: https:\/\/beacon\.example\/analytics\?site=st_/);
    const after = (await beacon.store.analytics.report('default', site, made.id))!;
    assert.ok(after.nextAt > Date.now(), 'the schedule moved on to the next month');

    // A recipient the server refuses: the mail stays pending with the server's answer, to be retried.
    await beacon.request(`/v1/sites/${site}/reports/${made.id}`, {
      method: 'PATCH',
      json: { recipients: ['bounce@example.com'] },
    });
    const bounced = (await beacon.request(`/v1/sites/${site}/reports/${made.id}/send`, { method: 'POST' }))
      .status;
    assert.equal(bounced, 202);
    // Sending now wakes this process's own worker; whichever worker takes the mail, it is tried once.
    await workers[0]!.tick(Date.now());
    const refused = await eventually(
      async () => {
        const mails = (await (await beacon.request(`/v1/sites/${site}/reports/${made.id}/mails`)).json()) as {
          items: { status: string; attempts: number; error: string | null; nextAttemptAt: string }[];
        };
        return mails.items[0]!.attempts > 0 ? mails.items[0]! : undefined;
      },
      30_000,
      'the refused mail tried',
    );
    assert.equal(refused.status, 'pending');
    assert.equal(refused.attempts, 1);
    assert.match(refused.error ?? '', /mailbox unavailable/);
    assert.ok(Date.parse(refused.nextAttemptAt) > Date.now(), 'retried later, not at once');
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
});

test('without an SMTP server, sending is refused plainly', async () => {
  const quiet = await startTestBeacon();
  try {
    const site = await createSite(quiet, { domain: 'quiet.example' });
    const { id } = (await (
      await quiet.request(`/v1/sites/${site}/reports`, {
        method: 'POST',
        json: { frequency: 'weekly', recipients: ['a@example.com'] },
      })
    ).json()) as { id: string };
    const res = await quiet.request(`/v1/sites/${site}/reports/${id}/send`, { method: 'POST' });
    assert.equal(res.status, 409);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'MAIL_UNCONFIGURED');
  } finally {
    await quiet.destroy();
  }
});
