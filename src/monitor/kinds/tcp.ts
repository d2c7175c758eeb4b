import net, { isIP, type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { ProbeResult } from '../model.ts';
import { classify, kindResult } from '../probe.ts';
import type { TcpSpec } from '../target.ts';

/** What a TCP check needs of its target. */
export type TcpPlan = Pick<
  TcpSpec,
  'host' | 'port' | 'tls' | 'servername' | 'ignoreTlsErrors' | 'timeoutMs' | 'degradedAboveMs'
>;

const r2 = (n: number) => Math.max(0, Math.round(n * 100) / 100);

/**
 * Connects to host:port on a fresh socket, timing the lookup and the connect, and with `tls` the
 * handshake too (recording the certificate's expiry), then closes. Never throws.
 */
export function probeTcp(plan: TcpPlan): Promise<ProbeResult> {
  const startedAt = Date.now();
  const t0 = performance.now();
  let dnsAt = t0;
  let connectAt = t0;
  let tlsAt = t0;
  let tlsExpiresAt: number | null = null;
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    let socket: Socket = net.connect({ host: plan.host, port: plan.port });
    const finish = (error: ProbeResult['error']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const durationMs = r2(performance.now() - t0);
      const phases = {
        dnsMs: r2(dnsAt - t0),
        connectMs: r2(connectAt - dnsAt),
        tlsMs: plan.tls ? r2(tlsAt - connectAt) : 0,
        ttfbMs: 0,
        transferMs: 0,
      };
      resolve(
        kindResult({
          startedAt,
          durationMs,
          error,
          degradedAboveMs: plan.degradedAboveMs,
          phases,
          tlsExpiresAt,
        }),
      );
    };
    const timer = setTimeout(
      () =>
        finish({
          class: 'timeout',
          detail: `no ${plan.tls ? 'handshake' : 'connection'} within ${plan.timeoutMs} ms`,
        }),
      plan.timeoutMs,
    );
    socket.once('lookup', () => (dnsAt = connectAt = tlsAt = performance.now()));
    socket.on('error', (err) => finish(classify(err)));
    socket.once('connect', () => {
      connectAt = tlsAt = performance.now();
      if (!plan.tls) return finish(null);
      const servername = plan.servername ?? (isIP(plan.host) ? undefined : plan.host);
      const secure: TLSSocket = tls.connect({
        socket,
        ...(servername ? { servername } : {}),
        rejectUnauthorized: !plan.ignoreTlsErrors,
      });
      socket = secure;
      secure.on('error', (err) => finish(classify(err)));
      secure.once('secureConnect', () => {
        tlsAt = performance.now();
        const cert = secure.getPeerCertificate();
        if (cert?.valid_to) tlsExpiresAt = Date.parse(cert.valid_to);
        finish(null);
      });
    });
  });
}
