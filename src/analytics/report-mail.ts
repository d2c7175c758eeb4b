/**
 * How report mails leave Beacon: a `MailSender`. `createMailSender` is the one place that chooses it:
 * today SMTP through nodemailer, from `analytics.smtp`. When the notification channels of issue 16
 * land with their own SMTP channel, this function is where reports move onto it.
 */
import { readFileSync } from 'node:fs';
import nodemailer from 'nodemailer';
import type { Config } from '../config/schema.ts';

/** One mail: an HTML body with a plain-text part saying the same. */
export interface Mail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** Sends mail; `send` rejects when the server refused it or could not be reached. */
export interface MailSender {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/** SMTP settings: `analytics.smtp`. */
export type SmtpSettings = Config['analytics']['smtp'];

/** An SMTP sender (STARTTLS required, TLS from the start, or plain), or undefined when no server is set. */
export function createMailSender(smtp: SmtpSettings): MailSender | undefined {
  if (!smtp.host || !smtp.from) return undefined;
  const from = smtp.from;
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.security === 'tls',
    requireTLS: smtp.security === 'starttls',
    ignoreTLS: smtp.security === 'none',
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    tls: smtp.caFile ? { ca: readFileSync(smtp.caFile) } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail) {
      await transport.sendMail({
        from,
        to: [...mail.to],
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
      });
    },
    close: () => transport.close(),
  };
}
