// What the benchmarks of the distributed form share: Beacon roles as child processes, the PostgreSQL
// server's maintenance database, tenants with ingest tokens, and a closed-loop batch load.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { BeaconStore } from '../../src/roles/store.ts';
import { createToken } from '../../src/tenants/tokens.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** scripts/postgres's server; benchmarks make a fresh database on it and drop it after. */
export const PG_SERVER = 'postgres://beacon@127.0.0.1:15432';
export const ADMIN = 'bench-admin-token-0123456789abcdef';
/** `beacon api` and `beacon start` print their URL on this line. */
export const API_READY = /Dashboard: (http:\/\/[^/\s]+)\/live/;
export const SINK_READY = /Beacon sink is running/;

export interface RoleOptions {
  /** Write a V8 CPU profile of the process into this directory. */
  readonly profileDir?: string | undefined;
  /** Pin the process to this core (`taskset -c`; taskset execs node, so the pid is node's). */
  readonly cpu?: number | undefined;
}

/** Starts `beacon <args>` and resolves once its output matches `ready`. */
export function spawnRole(
  args: readonly string[],
  env: Record<string, string>,
  ready: RegExp,
  options: RoleOptions = {},
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const node = [process.execPath, ...profile, MAIN, ...args];
  const [command, ...argv] =
    options.cpu === undefined ? node : ['taskset', '-c', String(options.cpu), ...node];
  const child = spawn(command!, argv, {
    env: { ...process.env, BEACON_LOG_LEVEL: 'warn', BEACON_RATE_LIMIT_PER_SECOND: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${output}`)), 60_000);
    child.stdout.on('data', () => {
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

/** `beacon <args>` run to its end; throws with its output when it fails. */
export async function runRole(args: readonly string[], env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`beacon ${args.join(' ')} failed:\n${output}`);
}

/** SIGTERM to each child, then waits until all have exited. */
export async function stopAll(children: readonly ChildProcess[]): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
  );
}

/** Runs one statement on the server's maintenance database (CREATE and DROP DATABASE). */
export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** `count` tenants with an ingest token each: messages are keyed by tenant, so several spread the load. */
export async function seedTenants(store: BeaconStore, count: number): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    await store.tenants.ensure({ id: `bench-${i}`, name: `bench ${i}`, createdAt: Date.now() });
    const { secret } = await createToken(store.tenants, {
      tenant: `bench-${i}`,
      name: 'bench',
      scopes: ['ingest'],
    });
    tokens.push(secret);
  }
  return tokens;
}

/**
 * Posts one message until it is answered 202 (at most a minute): a Kafka cluster just started answers
 * the producer's first request with COORDINATOR_LOAD_IN_PROGRESS for a while, which is no figure of
 * its throughput.
 */
export async function warmUp(url: string, token: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 500) {
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"warm":"up"}',
    });
    await res.arrayBuffer();
    if (res.status === 202) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not accept a message within a minute`);
}

/** A running closed-loop load: its counts grow as answers arrive. */
export interface BatchLoad {
  /** Events answered 202. */
  accepted: number;
  /** Batch requests answered otherwise. */
  failed: number;
  /** Those, by status and error code (`503 LOG_UNAVAILABLE`). */
  readonly refusals: Map<string, number>;
  /** Resolves when every connection's last request is answered. */
  readonly done: Promise<void>;
}

/**
 * `connections` loops posting batches of `batch` small messages to `POST /v1/messages/batch`, the
 * tokens in turn, for `seconds`. A request waits for its records' acknowledgement, so throughput is
 * at most connections × batch / acknowledgement latency.
 */
export function batchLoad(options: {
  readonly url: string;
  readonly tokens: readonly string[];
  readonly connections: number;
  readonly seconds: number;
  readonly batch: number;
}): BatchLoad {
  const body = JSON.stringify(
    Array.from({ length: options.batch }, (_, i) => ({ sensor: `s${i % 10}`, value: i / 10 })),
  );
  const until = performance.now() + options.seconds * 1000;
  const load = { accepted: 0, failed: 0, refusals: new Map<string, number>() };
  const done = Promise.all(
    Array.from({ length: options.connections }, async (_, c) => {
      for (let i = 0; performance.now() < until; i++) {
        const res = await fetch(`${options.url}/v1/messages/batch`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.tokens[(c + i) % options.tokens.length]!}`,
            'content-type': 'application/json',
          },
          body,
        });
        const text = await res.text();
        if (res.status === 202) {
          load.accepted += options.batch;
          continue;
        }
        load.failed += 1;
        const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? '';
        const kind = `${res.status} ${code}`.trim();
        load.refusals.set(kind, (load.refusals.get(kind) ?? 0) + 1);
      }
    }),
  ).then(() => undefined);
  return Object.assign(load, { done });
}
