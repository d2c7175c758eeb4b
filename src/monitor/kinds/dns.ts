import { Resolver } from 'node:dns/promises';
import type { ErrorClass, ProbeResult } from '../model.ts';
import { kindResult } from '../probe.ts';
import type { DnsRecordType, DnsSpec } from '../target.ts';

/** What a DNS check needs of its target. */
export type DnsPlan = Pick<
  DnsSpec,
  'query' | 'recordType' | 'resolver' | 'expect' | 'expectExact' | 'timeoutMs' | 'degradedAboveMs'
>;

const name = (n: string) => n.replace(/\.$/, '').toLowerCase();

/** Each record of the answer as one comparable string (see `DnsSpecSchema.expect`). */
async function lookup(resolver: Resolver, query: string, type: DnsRecordType): Promise<string[]> {
  switch (type) {
    case 'A':
      return resolver.resolve4(query);
    case 'AAAA':
      return resolver.resolve6(query);
    case 'CNAME':
      return (await resolver.resolveCname(query)).map(name);
    case 'NS':
      return (await resolver.resolveNs(query)).map(name);
    case 'MX':
      return (await resolver.resolveMx(query)).map((r) => `${r.priority} ${name(r.exchange)}`);
    case 'TXT':
      return (await resolver.resolveTxt(query)).map((chunks) => chunks.join(''));
    case 'SRV':
      return (await resolver.resolveSrv(query)).map(
        (r) => `${r.priority} ${r.weight} ${r.port} ${name(r.name)}`,
      );
    case 'SOA': {
      const r = await resolver.resolveSoa(query);
      return [`${name(r.nsname)} ${name(r.hostmaster)} ${r.serial}`];
    }
    case 'CAA':
      return (await resolver.resolveCaa(query)).map((r) => {
        const [tag, value] = Object.entries(r as unknown as Record<string, unknown>).find(
          ([k]) => k !== 'critical' && k !== 'type',
        ) ?? ['', ''];
        return `${r.critical} ${tag} ${String(value)}`;
      });
  }
}

/** c-ares codes as error classes. */
function classOf(code: string | undefined): ErrorClass {
  switch (code) {
    case 'ETIMEOUT':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'refused';
    case 'ENODATA':
      return 'answer';
    default:
      return 'dns';
  }
}

/** Values are compared as the answer gives them, names without case or the final dot. */
const normalize = (v: string) => v.trim().replace(/\.$/, '').toLowerCase();

/**
 * Looks the name up (at the target's resolver, else the system's), timing the lookup, and checks the
 * answer holds the expected values (or exactly them). Never throws.
 */
export async function probeDns(plan: DnsPlan): Promise<ProbeResult> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const resolver = new Resolver({ timeout: plan.timeoutMs, tries: 1 });
  if (plan.resolver !== undefined) resolver.setServers([plan.resolver]);
  let answers: string[] = [];
  let error: ProbeResult['error'] = null;
  let timer: NodeJS.Timeout | undefined;
  try {
    answers = await Promise.race([
      lookup(resolver, plan.query, plan.recordType),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          resolver.cancel();
          reject(Object.assign(new Error(`no answer within ${plan.timeoutMs} ms`), { code: 'ETIMEOUT' }));
        }, plan.timeoutMs);
      }),
    ]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    error = { class: classOf(e.code), detail: e.code ? `${e.code}: ${e.message}` : e.message };
  } finally {
    clearTimeout(timer);
  }
  const durationMs = Math.round((performance.now() - t0) * 100) / 100;
  if (error === null && plan.expect.length > 0) {
    const have = new Set(answers.map(normalize));
    const want = plan.expect.map(normalize);
    const missing = want.filter((v) => !have.has(v));
    const extra = plan.expectExact ? [...have].filter((v) => !want.includes(v)) : [];
    if (missing.length > 0 || extra.length > 0) {
      const parts = [
        missing.length > 0 ? `missing ${missing.join(', ')}` : '',
        extra.length > 0 ? `unexpected ${extra.join(', ')}` : '',
      ].filter(Boolean);
      error = { class: 'answer', detail: `${plan.recordType} ${plan.query}: ${parts.join('; ')}` };
    }
  }
  return kindResult({
    startedAt,
    durationMs,
    error,
    degradedAboveMs: plan.degradedAboveMs,
    phases: { dnsMs: durationMs, connectMs: 0, tlsMs: 0, ttfbMs: 0, transferMs: 0 },
    observed: { answers },
  });
}
