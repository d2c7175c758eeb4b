import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/**
 * `beacon start` as a real child process; resolves once it prints that it is running. `args` are
 * extra flags, e.g. `['--store', 'postgres://…']`.
 */
export async function spawnBeacon(
  dataDir: string,
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null>; output: () => string }> {
  const child = spawn(
    process.execPath,
    [MAIN, 'start', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, ...args],
    {
      env: { ...process.env, BEACON_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`beacon did not start:\n${output}`)), 20_000);
    const check = () => {
      const match = /Dashboard: (http:\/\/[^/\s]+)\/live/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`beacon exited with ${code}:\n${output}`)));
  });
  return { child, url, exited, output: () => output };
}
