import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { BeaconError } from '../errors/catalog.ts';
import { requireContentType } from '../http/auth.ts';
import type { RouteContext } from '../http/context.ts';
import type { MessageStore } from './store/repositories.ts';
import { decodeCursor, page } from '../wire/cursor.ts';
import { epochMs, isoTime } from '../wire/time.ts';
import { checkJsonText, parseJsonBody, splitObjectArray } from '../http/json-body.ts';
import { errorResponses, IsoTime } from '../http/schemas.ts';
import type { Appended } from '../log/record.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A message: any JSON object. */
const AnyObject = Type.Object({}, { additionalProperties: true, description: 'Any JSON object.' });

/**
 * A route option that documents `body` in /openapi.json, with the Idempotency-Key header's rule, in
 * place of the schemas the route validates with: the route reads its body itself, or refuses a
 * non-object or a bad key with codes of their own.
 */
const documentBody =
  (body: unknown) =>
  ({ schema, url }: { schema: object; url: string }) => ({
    schema: { ...schema, body, headers: DocumentedIdempotencyHeaders },
    url,
  });

const Accepted = Type.Object(
  {
    id: Type.String({ description: 'UUIDv7 of the stored message.' }),
    receivedAt: IsoTime('When Beacon first accepted it.'),
  },
  { $id: 'Accepted' },
);

const BatchAccepted = Type.Object({
  accepted: Type.Integer({ description: 'Messages newly stored.' }),
  duplicates: Type.Integer({ description: 'Messages answered from an earlier acceptance.' }),
  items: Type.Array(Accepted, { description: 'One answer per message, in order.' }),
});

const MessageItem = Type.Object({
  id: Type.String(),
  receivedAt: IsoTime('When Beacon accepted the message.'),
  payload: Type.Object({}, { additionalProperties: true, description: 'The JSON object as posted.' }),
});

const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
  from: Type.Optional(IsoTime('Only messages received at or after this time.')),
  to: Type.Optional(IsoTime('Only messages received before this time.')),
});

const idempotencyKeyHeader = (pattern?: string) =>
  Type.Object({
    'idempotency-key': Type.Optional(
      Type.String({
        ...(pattern === undefined ? {} : { pattern }),
        description:
          'Makes a retry safe: the same key from the same tenant returns the first answer. 1 to 255 printable ASCII characters.',
      }),
    ),
  });
/** Checked by the route, which refuses a bad key with its own code, IDEMPOTENCY_KEY_INVALID. */
const IdempotencyHeaders = idempotencyKeyHeader();
/** What the document says of the header: the same rule as a pattern. */
const DocumentedIdempotencyHeaders = idempotencyKeyHeader(IDEMPOTENCY_KEY.source);

function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) throw new BeaconError('IDEMPOTENCY_KEY_INVALID');
  return key;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Answers for appended messages (a batch shares one receivedAt, which isoTime formats once). */
function answers(appended: readonly Appended[]): { id: string; receivedAt: string }[] {
  return appended.map((a) => ({ id: a.id, receivedAt: isoTime(a.receivedAt) }));
}

/**
 * The 202 body of a batch, written out rather than through the response schema's serializer: it is a
 * thousand small objects, and serializing them was a tenth of a batch's cost on the event loop. Ids
 * are UUIDs and times ISO 8601, so neither needs escaping; the route tests check the body against
 * the schema.
 */
function batchAnswer(appended: readonly Appended[]): string {
  let duplicates = 0;
  let sameTime = true;
  for (const a of appended) {
    if (a.duplicate) duplicates += 1;
    if (a.receivedAt !== appended[0]!.receivedAt) sameTime = false;
  }
  const head = `{"accepted":${appended.length - duplicates},"duplicates":${duplicates},"items":[`;
  if (sameTime && appended.length > 0) {
    // The usual batch: one time for all, so the items are the ids joined by what lies between them.
    const tail = `","receivedAt":"${isoTime(appended[0]!.receivedAt)}"}`;
    return `${head}{"id":"${appended.map((a) => a.id).join(`${tail},{"id":"`)}${tail}]}`;
  }
  const items = answers(appended).map((a) => `{"id":"${a.id}","receivedAt":"${a.receivedAt}"}`);
  return `${head}${items.join(',')}]}`;
}

/** Whether JSON text is over `maxBytes` in UTF-8, counted exactly only when its length could be. */
function tooLarge(json: string, maxBytes: number): boolean {
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit.
  return json.length * 3 > maxBytes && Buffer.byteLength(json) > maxBytes;
}

/** A batch item: the message and its JSON text. */
interface BatchItem {
  readonly body: unknown;
  readonly json: string;
}

/** Splits an NDJSON body into messages, naming the first bad line; each line is kept as its JSON. */
function parseNdjson(text: string, maxBytes: number): BatchItem[] {
  const items: BatchItem[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (tooLarge(line, maxBytes)) {
      throw new BeaconError('MESSAGE_TOO_LARGE', `line ${i + 1} is larger than ${maxBytes} bytes`);
    }
    try {
      items.push({ body: JSON.parse(line), json: line });
    } catch {
      throw new BeaconError('BAD_JSON', `line ${i + 1} is not valid JSON`);
    }
  }
  return items;
}

/** A JSON array's items with their JSON text, which also measures each against the size limit. */
function arrayItems(array: readonly unknown[], maxBytes: number): BatchItem[] {
  return array.map((body, i) => {
    if (!isPlainObject(body)) throw new BeaconError('NOT_AN_OBJECT', `item ${i} is not a JSON object`);
    const json = JSON.stringify(body) ?? 'null';
    if (tooLarge(json, maxBytes)) {
      throw new BeaconError('MESSAGE_TOO_LARGE', `item ${i} is larger than ${maxBytes} bytes`);
    }
    return { body, json };
  });
}

/** The items of a JSON array as {@link splitObjectArray} cut them, or undefined if one does not parse. */
function parseItems(split: readonly string[], maxBytes: number): BatchItem[] | undefined {
  const items: BatchItem[] = [];
  for (let i = 0; i < split.length; i++) {
    const json = split[i]!;
    if (tooLarge(json, maxBytes)) {
      throw new BeaconError('MESSAGE_TOO_LARGE', `item ${i} is larger than ${maxBytes} bytes`);
    }
    try {
      items.push({ body: JSON.parse(json), json });
    } catch {
      return undefined;
    }
  }
  return items;
}

const isJson = (request: FastifyRequest) =>
  request.headers['content-type']?.split(';')[0]!.trim().toLowerCase() === 'application/json';

/** `POST /v1/messages`, `POST /v1/messages/batch` and `GET /v1/messages` (seed 001). */
export function registerMessageRoutes(base: FastifyInstance, ctx: RouteContext<MessageStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { config, ingest, store, scope } = ctx;
  const maxMessageBytes = config.ingest.maxMessageBytes;
  const maxDepth = config.ingest.maxJsonDepth;

  app.post(
    '/v1/messages',
    {
      onRequest: [scope('ingest'), requireContentType('application/json')],
      bodyLimit: maxMessageBytes,
      schema: {
        tags: ['messages'],
        summary: 'Accept one message',
        description:
          'Stores any JSON object. Answers 202 only once the message is durably in the log. With an Idempotency-Key, a retry returns the first answer and stores nothing new.',
        security: [{ bearer: [] }],
        headers: IdempotencyHeaders,
        body: Type.Unknown({ description: 'Any JSON object.' }),
        response: { 202: Accepted, ...errorResponses(400, 401, 403, 413, 415, 429, 503) },
      },
      // Anything else parses too, and is refused with NOT_AN_OBJECT: the document says what is taken.
      config: { swaggerTransform: documentBody(AnyObject) },
    },
    async (request, reply) => {
      if (!isPlainObject(request.body)) throw new BeaconError('NOT_AN_OBJECT');
      const tenant = request.principal!.tenant;
      const key = idempotencyKey(request);
      const [appended] = await ingest.accept('messages', [
        { tenant, entity: tenant, key: key === undefined ? undefined : `idem:${key}`, body: request.body },
      ]);
      if (appended!.duplicate) void reply.header('idempotent-replayed', 'true');
      return reply.code(202).send(answers([appended!])[0]!);
    },
  );

  app.post(
    '/v1/messages/batch',
    {
      onRequest: [
        scope('ingest'),
        requireContentType('application/json', 'application/x-ndjson', 'application/ndjson'),
      ],
      bodyLimit: config.ingest.maxBatchBytes,
      // The body arrives as text: a JSON array is split into its items rather than parsed whole and
      // each item encoded again (see splitObjectArray). The document says what that text must be.
      config: {
        rawJson: true,
        swaggerTransform: documentBody({
          content: {
            'application/json': {
              schema: Type.Array(AnyObject, { minItems: 1, maxItems: config.ingest.maxBatchItems }),
            },
            'application/x-ndjson': {
              schema: Type.String({
                minLength: 2,
                description: 'One JSON object per line (blank lines are skipped).',
              }),
            },
          },
        }),
      },
      schema: {
        tags: ['messages'],
        summary: 'Accept a batch of messages',
        description: `Up to ${config.ingest.maxBatchItems} messages, as a JSON array or as NDJSON (application/x-ndjson). All are stored or none are. With an Idempotency-Key, the i-th message gets the key "KEY:i".`,
        security: [{ bearer: [] }],
        headers: IdempotencyHeaders,
        body: Type.Unknown({ description: 'A JSON array of objects, or NDJSON with one object per line.' }),
        response: {
          202: BatchAccepted,
          ...errorResponses(400, 401, 403, 413, 415, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const text = request.body as string;
      const json = isJson(request);
      const split = json ? splitObjectArray(text) : undefined;
      let parsed: unknown = undefined;
      if (json && !split) {
        parsed = parseJsonBody(text, maxDepth + 1);
        if (!Array.isArray(parsed))
          throw new BeaconError('VALIDATION_FAILED', 'a batch must be a JSON array or NDJSON');
      }
      // Each item may nest as deep as a single message: the array around them is one level more.
      checkJsonText(text, json ? maxDepth + 1 : maxDepth);
      const lines = json ? undefined : parseNdjson(text, maxMessageBytes);
      const count = (split ?? lines ?? (parsed as unknown[])).length;
      if (count === 0) throw new BeaconError('BATCH_EMPTY');
      if (count > config.ingest.maxBatchItems) {
        throw new BeaconError(
          'BATCH_TOO_LARGE',
          `a batch holds at most ${config.ingest.maxBatchItems} messages`,
        );
      }
      const key = idempotencyKey(request);
      const tenant = request.principal!.tenant;
      const encoded =
        lines ??
        (split && parseItems(split, maxMessageBytes)) ??
        arrayItems((parsed ?? parseJsonBody(text, maxDepth + 1)) as unknown[], maxMessageBytes);
      const signals = encoded.map(({ body: item, json: itemJson }, i) => {
        if (!isPlainObject(item)) throw new BeaconError('NOT_AN_OBJECT', `item ${i} is not a JSON object`);
        return {
          tenant,
          entity: tenant,
          key: key === undefined ? undefined : `idem:${key}:${i}`,
          body: item,
          bodyJson: itemJson,
        };
      });
      const appended = await ingest.accept('messages', signals);
      // A string with a JSON content type is sent as it is, past the schema's serializer.
      const answer = batchAnswer(appended) as unknown as Static<typeof BatchAccepted>;
      return reply.code(202).type('application/json; charset=utf-8').send(answer);
    },
  );

  app.get(
    '/v1/messages',
    {
      onRequest: scope('read'),
      schema: {
        tags: ['messages'],
        summary: 'List stored messages',
        description:
          'Messages in (receivedAt, id) order, paged by an opaque keyset cursor: a page costs the same at any depth. A message appears here once the sink has stored it, usually within milliseconds of its 202.',
        security: [{ bearer: [] }],
        querystring: ListQuery,
        response: {
          200: Type.Object({
            items: Type.Array(MessageItem),
            next: Type.Union([Type.String(), Type.Null()], {
              description: 'Cursor for the next page; null at the end.',
            }),
          }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, after, from, to } = request.query;
      const cursor = after === undefined ? undefined : decodeCursor(after, ['number', 'string'] as const);
      const rows = await store.messages.list({
        tenant: request.principal!.tenant,
        limit: limit + 1,
        after: cursor && { receivedAt: cursor[0], id: cursor[1] },
        from: epochMs(from),
        to: epochMs(to),
        maxBytes: config.http.pageBytes,
      });
      // The page ends at `limit` messages or at the one that reaches the byte budget; the store read
      // one more, so `next` is given exactly when the listing goes on.
      let shown = 0;
      for (let bytes = 0; shown < rows.length && shown < limit && bytes < config.http.pageBytes; shown++) {
        bytes += rows[shown]!.bytes ?? 0;
      }
      return page(
        rows,
        shown,
        (m) => [m.receivedAt, m.id],
        (m) => ({ id: m.id, receivedAt: isoTime(m.receivedAt), payload: m.payload as object }),
      );
    },
  );
}
