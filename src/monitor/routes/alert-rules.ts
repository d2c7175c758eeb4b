import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { BeaconError } from '../../errors/catalog.ts';
import type { RouteContext } from '../../http/context.ts';
import { IsoTime } from '../../http/schemas.ts';
import type { ChannelRepository } from '../../notify/store/repositories.ts';
import { isoTime } from '../../wire/time.ts';
import { AlertRuleSpecSchema, parseAlertRuleSpec, type AlertRule } from '../alert-rules.ts';
import type { MonitorStore } from '../store/repositories.ts';
import { registerDefinitionRoutes } from './definitions.ts';

/** An alert rule on the wire (`#/components/schemas/AlertRule`). */
export const AlertRuleView = Type.Object(
  {
    ...AlertRuleSpecSchema.properties,
    id: Type.String(),
    source: Type.Union([Type.Literal('api'), Type.Literal('file')]),
    createdAt: IsoTime('When the rule was created.'),
    updatedAt: IsoTime('When the rule last changed.'),
  },
  { $id: 'AlertRule' },
);

const view = (r: AlertRule) => ({ ...r, createdAt: isoTime(r.createdAt), updatedAt: isoTime(r.updatedAt) });

/** A rule's channels must be the tenant's. */
export async function checkChannels(
  channels: ChannelRepository,
  tenant: string,
  ids: readonly string[],
): Promise<void> {
  for (const id of ids) {
    if (!(await channels.get(tenant, id)))
      throw new BeaconError('ALERT_RULE_INVALID', `channel ${id} does not exist`);
  }
}

/** `/v1/alert-rules`: which targets tell which channels, when, and how often. */
export function registerAlertRuleRoutes(
  app: FastifyInstance,
  ctx: RouteContext<MonitorStore & { channels: ChannelRepository }>,
): void {
  app.addSchema(AlertRuleView);
  registerDefinitionRoutes(app, ctx, {
    path: '/v1/alert-rules',
    noun: 'alert rule',
    ref: 'AlertRule',
    repository: (store) => store.alertRules,
    parse: async (input, tenant) => {
      const spec = parseAlertRuleSpec(input);
      await checkChannels(ctx.store.channels, tenant, spec.channels);
      return spec;
    },
    view,
  });
}
