import { channelInvalid, origin } from '../channel-url.ts';
import type { HttpAnswer } from '../http-client.ts';
import {
  answerText,
  escapeHtml,
  exchange,
  judge,
  jsonOf,
  plain,
  type Outcome,
  type Provider,
  type SendContext,
} from './provider.ts';

export interface MatrixConfig {
  readonly origin: string;
  readonly host: string;
  readonly token: string;
  /** `!id:server`, or `#alias:server` resolved before each send. */
  readonly room: string;
}

/** Matrix says how long to wait in the body (`retry_after_ms`) when it sends no Retry-After. */
function readAnswer(answer: HttpAnswer): Outcome {
  const outcome = judge(answer);
  if (outcome.ok || answer.status !== 429 || outcome.retryAfterMs !== undefined) return outcome;
  const after = jsonOf(answer)?.retry_after_ms;
  return typeof after === 'number' ? { ...outcome, retryAfterMs: after } : outcome;
}

async function roomId(c: MatrixConfig, context: SendContext): Promise<string | Outcome> {
  if (c.room.startsWith('!')) return c.room;
  let id: string | undefined;
  const outcome = await exchange(
    {
      method: 'GET',
      url: `${c.origin}/_matrix/client/v3/directory/room/${encodeURIComponent(c.room)}`,
      headers: { authorization: `Bearer ${c.token}` },
    },
    context,
    (answer) => {
      const found = jsonOf(answer)?.room_id;
      if (answer.status === 200 && typeof found === 'string') id = found;
      return id === undefined
        ? readAnswer(answer.status === 200 ? { ...answer, status: 502 } : answer)
        : { ok: true, status: 200, answer: answerText(answer) };
    },
  );
  return id ?? outcome;
}

/**
 * `matrixs://AccessToken@homeserver[:port]/!room:server` (or `/#alias:server`; `matrix://` without
 * TLS): a notice in a room, sent with the message's id as transaction id, so a send repeated after
 * a crash is one event, not two.
 */
export const matrix: Provider<MatrixConfig> = {
  kind: 'matrix',
  label: 'Matrix',
  schemes: ['matrix', 'matrixs'],
  groups: true,
  parse(url) {
    const token = url.password ?? url.user;
    if (!token) throw channelInvalid('write matrixs://AccessToken@homeserver/!room:server');
    const room = url.segments[0];
    if (!room || url.segments.length > 1 || !/^[!#][^:]+:.+$/.test(room))
      throw channelInvalid('name one room: !id:server or #alias:server');
    return { origin: origin(url.scheme === 'matrixs', url.host, url.port), host: url.host, token, room };
  },
  describe: (c) => `Matrix room ${c.room} on ${c.host}`,
  secrets: (c) => [c.token],
  async send(c, message, context) {
    const room = await roomId(c, context);
    if (typeof room !== 'string') return room;
    const html = `<strong>${escapeHtml(message.title)}</strong><br>${escapeHtml(message.text).replace(/\n/g, '<br>')}${message.link ? `<br><a href="${escapeHtml(message.link)}">Open in Beacon</a>` : ''}`;
    return exchange(
      {
        method: 'PUT',
        url: `${c.origin}/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.room.message/${encodeURIComponent(message.id)}`,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` },
        body: JSON.stringify({
          msgtype: 'm.notice',
          body: plain(message),
          format: 'org.matrix.custom.html',
          formatted_body: html,
        }),
      },
      context,
      readAnswer,
    );
  },
};
