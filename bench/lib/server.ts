import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServerStats } from './bench-routes.ts';
import { count } from './format.ts';
import { note, Progress, step } from './progress.ts';

/** Admin token of the benchmark server's default tenant (scopes admin, ingest, read). */
export const BENCH_TOKEN = 'bench-admin-token-0123456789abcdef';

/** What bench/server.ts tells its parent over IPC. */
export interface ServerMessage {
  readonly type: 'listening';
  readonly url: string;
  /** The server's own data directory; it deletes it on close, the parent only if it had to kill it. */
  readonly dataDir: string;
}

const SERVER_ENTRY = fileURLToPath(new URL('../server.ts', import.meta.url));
const DEFAULT_FLAGS = {
  port: 0,
  host: '127.0.0.1',
  logLevel: 'warn',
  adminToken: BENCH_TOKEN,
  'rateLimit.perSecond': 0,
};
const CLOSE_TIMEOUT_MS = 30_000;
const SINK_POLL_MS = 200;
/** How long the sink may make no progress before waiting for it is abandoned as broken. */
const SINK_STALL_MS = 60_000;

export interface ServerOptions {
  /** Settings as dotted paths, over the benchmark defaults (ephemeral port, rate limit off). */
  readonly flags?: Record<string, unknown>;
  /** When set, the server writes a V8 CPU profile here on exit. */
  readonly profileDir?: string | undefined;
  /** Another server speaking the same IPC (bench/floor-server.ts); Beacon by default. */
  readonly entry?: string | undefined;
}

/** A Beacon running in a child process, and the calls benchmarks make to it. */
export interface BenchServer {
  readonly url: string;
  readonly token: string;
  /**
   * fetch with the admin token, returning the JSON body; throws unless the status is `expect`. The body
   * is always read: an unread body pins its connection, and the server then cannot close.
   */
  request<T>(path: string, init?: RequestInit & { expect?: number }): Promise<T>;
  stats(): Promise<ServerStats>;
  /** Waits, showing progress, until the sink has stored everything the log accepted. */
  waitForSink(label: string): Promise<void>;
  /** Stops the server gracefully and deletes its data. */
  close(): Promise<void>;
}

/** Starts bench/server.ts in a child process and resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<BenchServer> {
  const execArgv = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  // The server's stdout (its logs) goes to our stderr, so our stdout holds only figures.
  const child = fork(
    options.entry ?? SERVER_ENTRY,
    [JSON.stringify({ ...DEFAULT_FLAGS, ...options.flags })],
    {
      execArgv,
      stdio: ['ignore', 2, 2, 'ipc'],
    },
  );
  const listening = await new Promise<ServerMessage>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code} before listening`)));
    child.once('error', reject);
  });
  return new ChildServer(child, listening);
}

class ChildServer implements BenchServer {
  readonly url: string;
  readonly token = BENCH_TOKEN;
  readonly #child: ChildProcess;
  readonly #dataDir: string;
  readonly #exited: Promise<void>;

  constructor(child: ChildProcess, listening: ServerMessage) {
    this.#child = child;
    this.url = listening.url;
    this.#dataDir = listening.dataDir;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  async request<T>(path: string, init: RequestInit & { expect?: number } = {}): Promise<T> {
    const { expect = 200, ...rest } = init;
    const headers = new Headers(rest.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    const response = await fetch(this.url + path, { ...rest, headers });
    const text = await response.text();
    if (response.status !== expect)
      throw new Error(`${rest.method ?? 'GET'} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }

  stats(): Promise<ServerStats> {
    return this.request<ServerStats>('/bench/stats');
  }

  async waitForSink(label: string): Promise<void> {
    let behind = (await this.stats()).sinkBehind;
    const first = behind;
    if (first === 0) return note(`${label}: nothing behind`);
    const progress = new Progress(label, first);
    let progressAt = Date.now();
    while (behind > 0) {
      progress.update(first - behind, `${count(behind)} behind`);
      await new Promise((r) => setTimeout(r, SINK_POLL_MS));
      const now = (await this.stats()).sinkBehind;
      if (now < behind) progressAt = Date.now();
      else if (Date.now() - progressAt > SINK_STALL_MS) {
        throw new Error(`the sink made no progress for ${SINK_STALL_MS / 1000} s (${count(now)} behind)`);
      }
      behind = now;
    }
    progress.finish(first, 'all stored');
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    this.#child.send({ type: 'close' });
    const timer = setTimeout(() => {
      step(`warning: the server did not stop within ${CLOSE_TIMEOUT_MS / 1000} s; killing it`);
      this.#child.kill('SIGKILL');
    }, CLOSE_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
    rmSync(this.#dataDir, { recursive: true, force: true });
  }
}
