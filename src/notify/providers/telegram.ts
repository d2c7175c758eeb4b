import { channelInvalid } from '../channel-url.ts';
import type { HttpAnswer } from '../http-client.ts';
import {
  answerText,
  clip,
  escapeHtml,
  exchange,
  judge,
  jsonOf,
  type Outcome,
  type Provider,
} from './provider.ts';

export interface TelegramConfig {
  readonly token: string;
  readonly chat: string;
}

/** Telegram answers `{ok: false, error_code, description, parameters: {retry_after}}` on failure. */
function readAnswer(answer: HttpAnswer): Outcome {
  const body = jsonOf(answer);
  if (answer.status === 200 && body?.ok === true)
    return { ok: true, status: 200, answer: answerText(answer) };
  const outcome = judge(answer.status === 200 ? { ...answer, status: 500 } : answer);
  if (outcome.ok) return outcome;
  const parameters = body?.parameters as { retry_after?: unknown } | undefined;
  return typeof parameters?.retry_after === 'number'
    ? { ...outcome, status: answer.status, retryAfterMs: parameters.retry_after * 1000 }
    : { ...outcome, status: answer.status };
}

/** `tgram://BotToken/ChatID`: the Bot API's sendMessage, as HTML. */
export const telegram: Provider<TelegramConfig> = {
  kind: 'telegram',
  label: 'Telegram',
  schemes: ['tgram'],
  groups: true,
  parse(url) {
    const chat = url.segments[0];
    if (!/^[0-9]+:[A-Za-z0-9_-]+$/.test(url.host))
      throw channelInvalid(
        'write tgram://BotToken/ChatID (the token from @BotFather looks like 123456:ABC-…)',
      );
    if (!chat || url.segments.length > 1 || !/^(-?[0-9]+|@[A-Za-z0-9_]{5,})$/.test(chat))
      throw channelInvalid('name one chat: a numeric chat id or an @channel name');
    return { token: url.host, chat };
  },
  describe: (c) => `Telegram chat ${c.chat}`,
  secrets: (c) => [c.token, c.token.split(':')[1]!],
  send: (c, message, context) => {
    const link = message.link ? `\n\n<a href="${escapeHtml(message.link)}">Open in Beacon</a>` : '';
    // Cut before escaping, so no tag or entity is cut in half.
    const text = `<b>${escapeHtml(clip(message.title, 256))}</b>\n${escapeHtml(clip(message.text, 3500))}`;
    return exchange(
      {
        method: 'POST',
        url: `${context.origin('telegram', 'https://api.telegram.org')}/bot${c.token}/sendMessage`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          chat_id: c.chat,
          text: text + link,
          parse_mode: 'HTML',
          disable_web_page_preview: true,
        }),
      },
      context,
      readAnswer,
    );
  },
};
