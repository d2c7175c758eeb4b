import type { HttpTarget } from '../../src/monitor/target.ts';

/** A stored target with every field at a plain value (tenant t1, an API target, 60 s); `patch` overrides. */
export function sampleTarget(id: string, patch: Partial<HttpTarget> = {}): HttpTarget {
  return {
    kind: 'http',
    id,
    tenant: 't1',
    source: 'api',
    createdAt: 1,
    updatedAt: 1,
    url: `https://${id}.example/`,
    intervalSeconds: 60,
    timeoutMs: 5000,
    method: 'GET',
    headers: {},
    expectStatus: ['200-399'],
    patternMustMatch: true,
    maxRedirects: 0,
    maxBodyBytes: 1024,
    ignoreTlsErrors: false,
    downAfter: 3,
    upAfter: 2,
    tags: [],
    assertions: [],
    tlsExpiryDays: [21, 14, 7],
    ...patch,
  };
}
