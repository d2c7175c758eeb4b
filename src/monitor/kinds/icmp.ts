import { spawn } from 'node:child_process';
import type { ErrorClass, ProbeResult } from '../model.ts';
import { kindResult } from '../probe.ts';
import type { IcmpSpec } from '../target.ts';

/** What an ICMP check needs of its target. */
export type IcmpPlan = Pick<IcmpSpec, 'host' | 'packets' | 'timeoutMs' | 'degradedAboveMs'>;

/** Said when the host lets this process send no ICMP echo: what to change, by name. */
export const ICMP_NOT_PERMITTED =
  "this host does not let Beacon's user send ICMP echo requests: allow its group in the kernel setting net.ipv4.ping_group_range (e.g. sysctl -w net.ipv4.ping_group_range='0 2147483647'), or give the ping binary cap_net_raw";

/** How a ping run ended, from its exit code and output. */
export function readPing(
  code: number | null,
  stdout: string,
  stderr: string,
): {
  sent: number;
  received: number;
  rttAvgMs: number | null;
  rttMinMs: number | null;
  rttMaxMs: number | null;
  error: { class: ErrorClass; detail: string } | null;
} {
  const counts = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(stdout);
  const sent = counts ? Number(counts[1]) : 0;
  const received = counts ? Number(counts[2]) : 0;
  const text = `${stderr} ${stdout}`.replace(/\s+/g, ' ').trim();
  let error: { class: ErrorClass; detail: string } | null = null;
  if (/Operation not permitted|Permission denied|cap_net_raw|setuid/i.test(stderr)) {
    error = { class: 'permission', detail: ICMP_NOT_PERMITTED };
  } else if (
    /Name or service not known|Temporary failure in name resolution|unknown host|No address associated/i.test(
      text,
    )
  ) {
    error = { class: 'dns', detail: text.slice(0, 300) };
  } else if (received === 0) {
    const cls: ErrorClass = /unreachable/i.test(text) ? 'unreachable' : sent > 0 ? 'timeout' : 'other';
    error = {
      class: cls,
      detail: sent > 0 ? `no echo reply to ${sent} requests` : `ping failed (${code}): ${text.slice(0, 300)}`,
    };
  }
  return {
    sent,
    received,
    rttMinMs: rtt ? Number(rtt[1]) : null,
    rttAvgMs: rtt ? Number(rtt[2]) : null,
    rttMaxMs: rtt ? Number(rtt[3]) : null,
    error,
  };
}

/**
 * Pings the host with the system's `ping` (Node has no ICMP sockets): it uses unprivileged ICMP where
 * `net.ipv4.ping_group_range` allows it, or its own capability. Where neither does, the check fails
 * with class `permission` and a message naming the setting. The duration is the average round trip.
 */
export function probeIcmp(plan: IcmpPlan, command: string): Promise<ProbeResult> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const deadline = Math.max(1, Math.ceil(plan.timeoutMs / 1000));
  return new Promise<ProbeResult>((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(
      command,
      [
        '-n',
        '-c',
        String(plan.packets),
        '-i',
        '0.2',
        '-W',
        String(deadline),
        '-w',
        String(deadline),
        plan.host,
      ],
      // The C locale keeps ping's summary in the English this reads; without PATH, /usr/bin:/bin is searched.
      { stdio: ['ignore', 'pipe', 'pipe'], env: { LC_ALL: 'C' } },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), plan.timeoutMs + 1000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = (result: ReturnType<typeof readPing>) => {
      clearTimeout(timer);
      const elapsed = Math.round((performance.now() - t0) * 100) / 100;
      const durationMs = result.rttAvgMs ?? elapsed;
      resolve(
        kindResult({
          startedAt,
          durationMs,
          error: result.error,
          degradedAboveMs: plan.degradedAboveMs,
          observed: {
            ping: {
              sent: result.sent,
              received: result.received,
              rttMinMs: result.rttMinMs,
              rttMaxMs: result.rttMaxMs,
            },
          },
        }),
      );
    };
    child.on('error', (err: NodeJS.ErrnoException) =>
      done({
        sent: 0,
        received: 0,
        rttAvgMs: null,
        rttMinMs: null,
        rttMaxMs: null,
        error: {
          class: 'other',
          detail:
            err.code === 'ENOENT'
              ? `the system ping (${command}) is not installed (Debian: iputils-ping)`
              : err.message,
        },
      }),
    );
    child.on('close', (code) => done(readPing(code, stdout, stderr)));
  });
}
