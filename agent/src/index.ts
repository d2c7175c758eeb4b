/**
 * The agent as an ES module, for apps that bundle it:
 *
 *   import { createAgent } from 'beacon/agent';
 *   const beacon = createAgent({ site: 'st_…', endpoint: 'https://stats.example.com' });
 *   beacon.track('signup', { plan: 'pro' });
 *   beacon.track('purchase', { plan: 'pro' }, { amount: 49.9, currency: 'EUR' });
 */
export {
  createAgent,
  type Agent,
  type AgentOptions,
  type Props,
  type Revenue,
  type Transport,
} from './agent.ts';
export { encodeBatch } from './proto.ts';
