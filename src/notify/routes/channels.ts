import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { v7 as uuidv7 } from 'uuid';
import { BeaconError } from '../../errors/catalog.ts';
import { requireContentType } from '../../http/auth.ts';
import type { RouteContext } from '../../http/context.ts';
import { errorResponses, IsoTime } from '../../http/schemas.ts';
import { decodeCursor, page } from '../../wire/cursor.ts';
import { isoTime } from '../../wire/time.ts';
import { CHANNEL_ID, parseChannelSpec, PROVIDERS, resolveChannel, type Channel } from '../channels.ts';
import { sendContext } from '../deliverer.ts';
import { compose } from '../message.ts';
import type { Notification } from '../notification.ts';
import type { NotifyStore } from '../store/repositories.ts';
import { deliveryPage, deliveryPageResponses, DeliveryPageQuery } from './schemas.ts';

/** A channel on the wire: never its URL or template, which hold secrets (`#/components/schemas/Channel`). */
export const ChannelView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    kind: Type.String({ description: 'The service: webhook, slack, discord, teams, telegram, email, ntfy…' }),
    summary: Type.String({ description: 'Where it sends, without secrets.' }),
    hasTemplate: Type.Boolean(),
    source: Type.Union([Type.Literal('api'), Type.Literal('file')]),
    createdAt: IsoTime('When the channel was created.'),
    updatedAt: IsoTime('When the channel last changed.'),
  },
  { $id: 'Channel' },
);

/** A channel as `ChannelView` shows it. A stored URL no provider reads any more says so. */
export function channelView(ch: Channel) {
  let summary: string;
  try {
    summary = resolveChannel(ch).summary;
  } catch (err) {
    summary = `not usable: ${(err as Error).message}`;
  }
  return {
    id: ch.id,
    name: ch.name,
    kind: ch.kind,
    summary,
    hasTemplate: ch.template !== undefined,
    source: ch.source,
    createdAt: isoTime(ch.createdAt),
    updatedAt: isoTime(ch.updatedAt),
  };
}

const Params = Type.Object({ id: Type.String() });
const ChannelInput = Type.Unknown({
  description:
    'A channel: `name`, `url` (an Apprise-style service URL) and, for json:// webhooks, `template`; `id` is optional on create. On change, fields left out keep their value.',
});
const TestResult = Type.Object({
  ok: Type.Boolean(),
  status: Type.Union([Type.Integer(), Type.Null()]),
  answer: Type.String({ description: "The service's answer, secrets removed." }),
  retry: Type.Boolean({ description: 'On failure: whether trying again may help.' }),
});

/**
 * `/v1/channels`: where notifications go. A channel is a service URL in Apprise's conventions; it is
 * validated by its provider when saved, its secrets are never returned, and "send a test" sends now.
 */
export function registerChannelRoutes(base: FastifyInstance, ctx: RouteContext<NotifyStore>): void {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;
  const tags = ['notify'];
  const security = [{ bearer: [] }];
  const context = sendContext(ctx.config.notify.timeoutMs, ctx.config.notify.serviceUrls);

  const require = async (tenant: string, id: string) => {
    const ch = await store.channels.get(tenant, id);
    if (!ch) throw new BeaconError('NOT_FOUND', `no channel ${id}`);
    return ch;
  };
  const object = (body: unknown) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new BeaconError('NOT_AN_OBJECT');
    return body as Record<string, unknown>;
  };

  app.get(
    '/v1/channel-kinds',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags,
        security,
        summary: 'The services a channel can send to',
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                kind: Type.String(),
                label: Type.String(),
                schemes: Type.Array(Type.String()),
                groups: Type.Boolean(),
              }),
            ),
          }),
          ...errorResponses(401, 403, 429),
        },
      },
    },
    () => ({
      items: PROVIDERS.map((p) => ({
        kind: p.kind,
        label: p.label,
        schemes: [...p.schemes],
        groups: p.groups,
      })),
    }),
  );

  app.post(
    '/v1/channels',
    {
      onRequest: [ctx.scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Create a channel',
        description:
          'The URL is read by its service provider first: a URL it cannot use is refused with CHANNEL_INVALID.',
        body: ChannelInput,
        response: { 201: Type.Ref('Channel'), ...errorResponses(400, 401, 403, 409, 415, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const { id, ...rest } = object(request.body);
      if (id !== undefined && (typeof id !== 'string' || !CHANNEL_ID.test(id)))
        throw new BeaconError('CHANNEL_INVALID', 'id must be letters, digits, ".", "_" or "-" (at most 128)');
      const { spec, kind } = parseChannelSpec(rest);
      const now = Date.now();
      const channel: Channel = {
        ...spec,
        id: id ?? uuidv7(),
        tenant,
        kind,
        source: 'api',
        createdAt: now,
        updatedAt: now,
      };
      if (!(await store.channels.create(channel)))
        throw new BeaconError('CONFLICT', `channel ${channel.id} exists`);
      ctx.logger.info({ tenant, channel: channel.id, kind }, 'channel created');
      return reply.code(201).send(channelView(channel));
    },
  );

  app.get(
    '/v1/channels',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags,
        security,
        summary: 'List channels',
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          after: Type.Optional(Type.String({ description: 'The `next` cursor of the previous page.' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Ref('Channel')),
            next: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403, 429),
        },
      },
    },
    async (request) => {
      const { limit, after } = request.query;
      const cursor = after === undefined ? undefined : decodeCursor(after, ['string'] as const)[0];
      const rows = await store.channels.list(request.principal!.tenant, limit + 1, cursor);
      return page(rows, limit, (c) => [c.id], channelView);
    },
  );

  app.get(
    '/v1/channels/:id',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags,
        security,
        summary: 'One channel',
        params: Params,
        response: { 200: Type.Ref('Channel'), ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => channelView(await require(request.principal!.tenant, request.params.id)),
  );

  app.patch(
    '/v1/channels/:id',
    {
      onRequest: [ctx.scope('admin'), requireContentType('application/json')],
      schema: {
        tags,
        security,
        summary: 'Change a channel',
        description:
          'Fields left out keep their value (so the URL need not be sent again to rename); `template: null` removes the template.',
        params: Params,
        body: ChannelInput,
        response: { 200: Type.Ref('Channel'), ...errorResponses(400, 401, 403, 404, 409, 415, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const current = await require(tenant, request.params.id);
      if (current.source === 'file')
        throw new BeaconError('DEFINED_IN_FILE', `channel ${current.id} is defined in the targets file`);
      const merged: Record<string, unknown> = { name: current.name, url: current.url };
      if (current.template !== undefined) merged.template = current.template;
      for (const [k, v] of Object.entries(object(request.body))) {
        if (k === 'id') {
          if (v !== current.id) throw new BeaconError('CHANNEL_INVALID', 'id cannot change');
          continue;
        }
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      const { spec, kind } = parseChannelSpec(merged);
      const now = Date.now();
      if (!(await store.channels.update(tenant, current.id, spec, kind, now)))
        throw new BeaconError('NOT_FOUND');
      const { tenant: t, id, source, createdAt } = current;
      return channelView({ ...spec, tenant: t, id, source, createdAt, kind, updatedAt: now });
    },
  );

  app.delete(
    '/v1/channels/:id',
    {
      onRequest: ctx.scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Delete a channel',
        description:
          'Notifications still queued for it are marked failed when their turn comes; rules naming it skip it.',
        params: Params,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409, 429) },
      },
    },
    async (request, reply) => {
      const tenant = request.principal!.tenant;
      const current = await require(tenant, request.params.id);
      if (current.source === 'file')
        throw new BeaconError('DEFINED_IN_FILE', `channel ${current.id} is defined in the targets file`);
      await store.channels.delete(tenant, current.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/channels/:id/test',
    {
      onRequest: ctx.scope('admin'),
      schema: {
        tags,
        security,
        summary: 'Send a test notification now',
        description:
          "Sends at once (not through the outbox) and answers with the service's reply; the send is kept in the channel's delivery history.",
        params: Params,
        response: { 200: TestResult, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const channel = await require(tenant, request.params.id);
      const now = Date.now();
      const notification: Notification = {
        source: 'test',
        subject: channel.id,
        event: 'test',
        severity: 'info',
        action: 'notify',
        dedupKey: `beacon:${tenant}:test:${channel.id}`,
        title: `Test from Beacon: ${channel.name}`,
        text: 'If you can read this, Beacon can notify this channel.',
        fields: {},
        at: now,
      };
      const outcome = await resolveChannel(channel).send(
        compose(`beacon-test-${uuidv7()}`, [notification]),
        context,
      );
      const done = Date.now();
      await store.outbox.record({
        tenant,
        channel: channel.id,
        key: `test:${uuidv7()}`,
        notification,
        createdAt: now,
        dueAt: now,
        state: outcome.ok ? 'sent' : 'failed',
        attempts: 1,
        lastAttemptAt: done,
        sentAt: outcome.ok ? done : null,
        status: outcome.status,
        answer: outcome.answer,
        batchSize: 1,
      });
      return {
        ok: outcome.ok,
        status: outcome.status,
        answer: outcome.answer,
        retry: !outcome.ok && outcome.retry,
      };
    },
  );

  app.get(
    '/v1/channels/:id/deliveries',
    {
      onRequest: ctx.scope('read'),
      schema: {
        tags,
        security,
        summary: "A channel's delivery history, newest first",
        params: Params,
        querystring: DeliveryPageQuery,
        response: deliveryPageResponses,
      },
    },
    async (request) => {
      const tenant = request.principal!.tenant;
      const channel = await require(tenant, request.params.id);
      return deliveryPage(store.outbox, { tenant, channel: channel.id }, request.query);
    },
  );
}
