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

/** `targets` as MonitorReader.targetPages gives them: pages of `size`, read as they are iterated. */
export async function* pagesOf<T>(
  targets: () => readonly T[] | Promise<readonly T[]>,
  size = 2,
): AsyncGenerator<T[]> {
  const all = await targets();
  for (let i = 0; i < all.length; i += size) yield all.slice(i, i + size);
}

/** Every page of an async pager, gathered (for tests). */
export async function gather<T>(pages: AsyncIterable<readonly T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}
