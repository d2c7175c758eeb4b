import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** A `beacon` role running as a real child process. */
export interface RoleProcess {
  readonly child: ChildProcess;
  /** Base URL of `start` and `api`, or of `sink`'s operations endpoints (`/metrics`, `/healthz`, `/readyz`). */
  readonly url: string;
  readonly exited: Promise<number | null>;
  output(): string;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<number | null>;
}

/** Starts `beacon <role>` and resolves once it says it is running (for start and api: its URL). */
export async function spawnRole(
  role: 'start' | 'api' | 'sink',
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<RoleProcess> {
  const serves = role !== 'sink';
  // A sink serves only its operations endpoints, on a free port (sink.port defaults to 0).
  const flags = serves ? ['--port', '0', '--host', '127.0.0.1'] : ['--host', '127.0.0.1'];
  const child = spawn(process.execPath, [MAIN, role, ...flags, ...args], {
    env: { ...process.env, BEACON_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = serves
    ? /Dashboard: (http:\/\/[^/\s]+)\/live/
    : /Beacon sink is running.*Metrics: (http:\/\/[^/\s]+)\/metrics/;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`beacon ${role} did not start:\n${output}`)), 60_000);
    const check = () => {
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`beacon ${role} exited with ${code}:\n${output}`)));
  });
  return {
    child,
    url,
    exited,
    output: () => output,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs a one-shot `beacon` command (setup, token…) and returns its output; throws on failure. */
export function runBeacon(args: string[], env: Record<string, string>): string {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    env: { ...process.env, BEACON_LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0)
    throw new Error(`beacon ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}
