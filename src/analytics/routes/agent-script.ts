import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { BeaconError } from '../../errors/catalog.ts';

const AGENT_DIST = fileURLToPath(new URL('../../../agent/dist/', import.meta.url));

function loadAgent(file: string): Buffer | undefined {
  const path = AGENT_DIST + file;
  return existsSync(path) ? readFileSync(path) : undefined;
}

/**
 * `GET /agent.js` and `GET /agent.mjs`: the browser agent as `npm run build` made it, read once at start;
 * customers' pages on any origin load it.
 */
export function registerAgentScript(app: FastifyInstance): void {
  const agents = { 'agent.js': loadAgent('agent.js'), 'agent.mjs': loadAgent('agent.mjs') };
  for (const [file, body] of Object.entries(agents)) {
    app.get(`/${file}`, { schema: { hide: true } }, (_request, reply) => {
      if (!body) throw new BeaconError('ROUTE_NOT_FOUND', 'the agent is not built: run npm run build');
      return reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .header('access-control-allow-origin', '*')
        .send(body);
    });
  }
}
