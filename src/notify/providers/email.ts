import { channelInvalid, flag } from '../channel-url.ts';
import { answerText, escapeHtml, fieldLines, type Outcome, type Provider } from './provider.ts';

export interface EmailConfig {
  readonly host: string;
  readonly port: number;
  /** `tls`: TLS from the first byte (465); `starttls`: upgrade required (587); `plain`: upgrade if offered. */
  readonly mode: 'tls' | 'starttls' | 'plain';
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly from: string;
  readonly to: readonly string[];
  readonly insecure: boolean;
}

const ADDRESS = /^[^\s@<>,]+@[^\s@<>,]+$/;

/** SMTP failures that pass (4xx replies, connection trouble); 5xx replies and bad credentials do not. */
function failure(err: unknown): Outcome {
  const e = err as { code?: string; responseCode?: number; response?: string; message: string };
  const status = e.responseCode ?? null;
  const answer = answerText(`${e.code ?? 'error'}${status ? ` ${status}` : ''}: ${e.response ?? e.message}`);
  if (status !== null) return { ok: false, retry: status < 500, status, answer };
  return {
    ok: false,
    retry: e.code !== 'EAUTH' && e.code !== 'ETLS' && e.code !== 'EENVELOPE',
    status,
    answer,
  };
}

/**
 * `mailtos://user:password@smtp.example.com?to=ops@example.com`: e-mail over SMTP with STARTTLS
 * (port 587), or with `mode=ssl` TLS from the start (465). `mailto://` sends in the clear unless the
 * server offers STARTTLS (port 25). `from` defaults to the user when it is an address, `to` likewise.
 */
export const email: Provider<EmailConfig> = {
  kind: 'email',
  label: 'E-mail (SMTP)',
  schemes: ['mailto', 'mailtos'],
  groups: true,
  parse(url) {
    if (!url.host) throw channelInvalid('name the SMTP server: mailtos://user:password@smtp.example.com');
    const modeParam = url.params.get('mode');
    if (modeParam !== null && !['ssl', 'tls', 'starttls', 'insecure'].includes(modeParam))
      throw channelInvalid('mode must be ssl or starttls');
    const mode: EmailConfig['mode'] =
      url.scheme === 'mailto' ? 'plain' : modeParam === 'ssl' || modeParam === 'tls' ? 'tls' : 'starttls';
    const login = url.user !== undefined && ADDRESS.test(url.user) ? url.user : undefined;
    const to = (url.params.get('to') ?? login ?? '').split(/[\s,]+/).filter((a) => a !== '');
    if (to.length === 0) throw channelInvalid('name the recipients: ?to=ops@example.com');
    for (const address of to)
      if (!ADDRESS.test(address)) throw channelInvalid(`"${address}" is not an e-mail address`);
    const from = url.params.get('from') ?? login ?? `beacon@${url.host}`;
    if (!ADDRESS.test(from.replace(/^.*<(.*)>$/, '$1')))
      throw channelInvalid(`"${from}" is not an e-mail address`);
    const name = url.params.get('name');
    return {
      host: url.host,
      port: url.port ?? (mode === 'tls' ? 465 : mode === 'starttls' ? 587 : 25),
      mode,
      user: url.user,
      password: url.password,
      from: name ? `"${name.replace(/"/g, '')}" <${from}>` : from,
      to,
      insecure: !flag(url.params, 'verify', true),
    };
  },
  describe: (c) =>
    `e-mail to ${c.to.join(', ')} via ${c.host}:${c.port} (${c.mode === 'tls' ? 'TLS' : c.mode === 'starttls' ? 'STARTTLS' : 'no TLS required'})`,
  secrets: (c) => (c.password ? [c.password] : []),
  async send(c, message, context) {
    // Loaded on the first mail, not with the module: every process that reads channels (the probe
    // reading a targets file among them) would otherwise hold nodemailer's modules, about 10 MB
    // of RSS, without ever sending (issue 20).
    const { default: nodemailer } = await import('nodemailer');
    const transport = nodemailer.createTransport({
      host: c.host,
      port: c.port,
      secure: c.mode === 'tls',
      requireTLS: c.mode === 'starttls',
      ...(c.user !== undefined ? { auth: { user: c.user, pass: c.password ?? '' } } : {}),
      tls: { rejectUnauthorized: !c.insecure },
      connectionTimeout: context.timeoutMs,
      greetingTimeout: context.timeoutMs,
      socketTimeout: context.timeoutMs,
    });
    const fields = fieldLines(message);
    const text = [message.text, fields, message.link ? `Open in Beacon: ${message.link}` : '']
      .filter((part) => part !== '')
      .join('\n\n');
    const html = [
      `<h2>${escapeHtml(message.title)}</h2>`,
      `<p>${escapeHtml(message.text).replace(/\n/g, '<br>')}</p>`,
      fields
        ? `<table>${Object.entries(message.fields)
            .map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
            .join('')}</table>`
        : '',
      message.link ? `<p><a href="${escapeHtml(message.link)}">Open in Beacon</a></p>` : '',
    ].join('');
    try {
      const info = await transport.sendMail({
        from: c.from,
        to: [...c.to],
        subject: message.title,
        text,
        html,
        headers: { 'X-Beacon-Id': message.id },
      });
      return { ok: true, status: 250, answer: answerText(info.response) };
    } catch (err) {
      return failure(err);
    } finally {
      transport.close();
    }
  },
};
