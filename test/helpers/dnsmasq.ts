import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's dnsmasq (dnsmasq-base, installed by scripts/install-deps). */
export const DNSMASQ = '/usr/sbin/dnsmasq';

/** A real DNS server on a loopback port, answering only the records it was given. */
export interface DnsServer {
  /** `127.0.0.1:PORT`, as a dns target's `resolver`. */
  readonly address: string;
  close(): Promise<void>;
}

/** A free UDP port on loopback (closed again, for dnsmasq to take). */
async function freePort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

/**
 * Starts dnsmasq in the foreground on 127.0.0.1 with `records` (dnsmasq options such as
 * `--host-record=app.test,192.0.2.1`) and no upstream; resolves once it answers.
 */
export async function startDnsmasq(records: readonly string[]): Promise<DnsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-dns-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    DNSMASQ,
    [
      '--keep-in-foreground',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--conf-file=/dev/null',
      `--pid-file=${join(dir, 'pid')}`,
      '--user=root',
      ...records,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const { Resolver } = await import('node:dns/promises');
  const probe = new Resolver({ timeout: 200, tries: 1 });
  probe.setServers([`127.0.0.1:${port}`]);
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited: ${stderr}`);
    try {
      await probe.resolve4('localhost.invalid');
      break;
    } catch (err) {
      // Any DNS answer (even a refusal) means it is listening.
      if (
        (err as NodeJS.ErrnoException).code !== 'ETIMEOUT' &&
        (err as NodeJS.ErrnoException).code !== 'ECONNREFUSED'
      )
        break;
      if (i > 100) throw new Error(`dnsmasq did not answer: ${stderr}`, { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
