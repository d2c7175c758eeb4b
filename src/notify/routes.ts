import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../http/context.ts';
import { ChannelView, registerChannelRoutes } from './routes/channels.ts';
import { DeliveryView } from './routes/schemas.ts';
import type { NotifyStore } from './store/repositories.ts';

/** The notify engine's API: channels (with a test send) and their delivery history. */
export function registerNotifyRoutes(app: FastifyInstance, ctx: RouteContext<NotifyStore>): void {
  app.addSchema(ChannelView);
  app.addSchema(DeliveryView);
  registerChannelRoutes(app, ctx);
}
