// The fault tests' pipeline: several `beacon api` processes and sinks as real child processes on one
// log and store, a steady load across the api processes, and the checks every fault run ends with.
import assert from 'node:assert/strict';
import { assertExactlyOnce, ingestLoad, storedIds, type Answer, type Load } from './load.ts';
import { runBeacon, spawnRole, type RoleProcess } from './roles.ts';
import { eventually } from './server.ts';

/** The sinks' consumer group for messages, as `beacon_sink_lag_records` labels it. */
const LAG = 'beacon_sink_lag_records{stream="messages",group="sink-messages"}';

/** What one fault run saw, for its diagnostic line and docs/operations.md's fault matrix. */
export interface FaultRun {
  /** Ids answered 202 in this run, all found stored exactly once. */
  readonly accepted: number;
  /** Answers other than 202, by status and code (`503 LOG_UNAVAILABLE`: 12). */
  readonly refused: Record<string, number>;
  /** When the first and the last refusal were answered, in seconds from the fault (none: nothing refused). */
  readonly refusing: readonly [number, number] | undefined;
  /** Rows stored that no 202 announced: requests answered 503 that Kafka had written after all. */
  readonly storedUnannounced: number;
  /** Records sinks found already stored (a batch offered again after a rebalance or a lost commit). */
  readonly duplicatesSkipped: number;
}

/** The value of one sample (`name{labels}`) in Prometheus text, or undefined when absent. */
export function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/**
 * Creates `count` tenants (`beacon tenant create`) and returns their admin tokens. Messages are keyed
 * by tenant in Kafka, so several tenants spread the load over the partitions.
 */
export function createTenants(env: Record<string, string>, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const out = runBeacon(['tenant', 'create', `fault-${i}`, '--json'], env);
    return (JSON.parse(out) as { adminToken: string }).adminToken;
  });
}

export class Pipeline {
  readonly #env: Record<string, string>;
  readonly #tokens: readonly string[];
  readonly apis: RoleProcess[] = [];
  readonly sinks: RoleProcess[] = [];
  /** Every id acknowledged over all runs, and every id seen stored: runs share one store. */
  readonly #acknowledged = new Set<string>();
  /** Stored rows no 202 announced, as of the last settle. */
  #unannounced = 0;
  /** Duplicates counted by sinks already stopped, and the total when the current load began. */
  #retiredDuplicates = 0;
  #duplicatesBefore = 0;
  /** Loads not yet settled: stopped with the pipeline when a test fails before it settles them. */
  readonly #loads = new Set<Load>();

  /** `tokens`: one admin token per tenant the load writes to. */
  constructor(env: Record<string, string>, tokens: readonly string[]) {
    this.#env = env;
    this.#tokens = tokens;
  }

  async start(apis: number, sinks: number): Promise<void> {
    for (let i = 0; i < apis; i++) this.apis.push(await spawnRole('api', this.#env));
    for (let i = 0; i < sinks; i++) await this.addSink();
    // A Kafka cluster just started answers a producer's first request with COORDINATOR_LOAD_IN_PROGRESS
    // for a while (503s that belong to no fault): each api process has one message acknowledged first.
    for (const api of this.apis) {
      const id = await eventually(
        async () => {
          const res = await fetch(`${api.url}/v1/messages`, {
            method: 'POST',
            headers: { authorization: `Bearer ${this.#tokens[0]!}`, 'content-type': 'application/json' },
            body: '{"warm":"up"}',
          });
          return res.status === 202 ? ((await res.json()) as { id: string }).id : undefined;
        },
        120_000,
        `${api.url} accepting`,
        500,
      );
      this.#acknowledged.add(id);
    }
  }

  /** Starts one more sink (with `env` over the pipeline's), logging its partition assignments. */
  async addSink(env: Record<string, string> = {}): Promise<RoleProcess> {
    const sink = await spawnRole('sink', { ...this.#env, ...env }, ['--log-level', 'info']);
    this.sinks.push(sink);
    return sink;
  }

  /** Stops a sink with SIGTERM (it drains and leaves the group) and forgets it. */
  async removeSink(sink: RoleProcess): Promise<void> {
    this.#retiredDuplicates += await this.#duplicates(sink);
    assert.equal(await sink.stop(), 0, `sink exited cleanly:\n${sink.output().slice(-2000)}`);
    this.sinks.splice(this.sinks.indexOf(sink), 1);
  }

  /** Steady ingest across every api process, as clients that honour Retry-After. */
  async load(): Promise<Load> {
    this.#duplicatesBefore = await this.#allDuplicates();
    const load = ingestLoad(
      this.apis.map((a) => a.url),
      { clients: 6, tokens: this.#tokens, pauseMs: 5, honourRetryAfter: true },
    );
    this.#loads.add(load);
    return load;
  }

  /** Waits until `load` has `more` acknowledged ids beyond what it has now. */
  async progress(load: Load, more: number, what: string): Promise<void> {
    const target = load.accepted.size + more;
    await eventually(
      () => Promise.resolve(load.accepted.size >= target ? true : undefined),
      120_000,
      `${more} more acknowledgements (${what})`,
      100,
    );
  }

  /** A role's /metrics; when it cannot be reached, the error carries the role's last output. */
  async metrics(role: RoleProcess): Promise<string> {
    try {
      return await (await fetch(`${role.url}/metrics`)).text();
    } catch (cause) {
      const exited = role.child.exitCode ?? role.child.signalCode;
      throw new Error(
        `${role.url}/metrics: ${String(cause)} (exit ${exited}):\n${role.output().slice(-4000)}`,
        {
          cause,
        },
      );
    }
  }

  /** GET /v1/messages on an api process: its status and error code. */
  async read(
    api: RoleProcess = this.apis[0]!,
  ): Promise<{ status: number; code?: string; retryAfter: string | null }> {
    const res = await fetch(`${api.url}/v1/messages?limit=1`, {
      headers: { authorization: `Bearer ${this.#tokens[0]!}` },
    });
    const body = (await res.json()) as { error?: { code: string } };
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      ...(body.error ? { code: body.error.code } : {}),
    };
  }

  /**
   * Ends a run: stops the load, checks that every answer other than 202 was a 503 with its code and
   * Retry-After (never an error without one, never a lost connection), waits until the sinks have
   * stored every acknowledged id and the group's lag is zero, and checks each is stored exactly once.
   */
  async settle(load: Load, faultAt: number): Promise<FaultRun> {
    this.#loads.delete(load);
    const accepted = await load.stop();
    for (const id of accepted) this.#acknowledged.add(id);
    const refused: Record<string, number> = {};
    for (const answer of load.answers.filter((a) => a.status !== 202)) {
      const kind = `${answer.status} ${answer.code ?? ''}`.trim();
      refused[kind] = (refused[kind] ?? 0) + 1;
      assert.equal(answer.status, 503, `an answer other than 202 is a 503: ${JSON.stringify(answer)}`);
      assert.ok(Number(answer.retryAfter) >= 1, `a 503 says when to retry: ${JSON.stringify(answer)}`);
    }
    const api = this.apis[0]!;
    const stored = await eventually(
      async () => {
        // Every acknowledged id, not a count: rows stored without a 202 (a 503 Kafka wrote after
        // all) would otherwise make up for an acknowledged one a sink has not stored yet.
        const ids = await this.#stored(api).catch(() => []);
        const seen = new Set(ids);
        for (const id of this.#acknowledged) if (!seen.has(id)) return undefined;
        return ids;
      },
      180_000,
      `${this.#acknowledged.size} acknowledged messages stored`,
      500,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${this.sinks.map((s) => s.output().slice(-3000)).join('\n---\n')}`);
    });
    assertExactlyOnce(this.#acknowledged, stored);
    await eventually(
      async () => ((await this.#lag()) === 0 ? true : undefined),
      120_000,
      'the sink group lag back to zero',
      500,
    );
    const refusedAnswers = refusals(load.answers);
    const since = (a: Answer | undefined) => ((a?.at ?? faultAt) - faultAt) / 1000;
    const unannounced = stored.length - this.#acknowledged.size;
    const run = {
      accepted: accepted.size,
      refused,
      refusing:
        refusedAnswers.length > 0
          ? ([since(refusedAnswers[0]), since(refusedAnswers.at(-1))] as const)
          : undefined,
      storedUnannounced: unannounced - this.#unannounced,
      duplicatesSkipped: (await this.#allDuplicates()) - this.#duplicatesBefore,
    };
    this.#unannounced = unannounced;
    return run;
  }

  async #duplicates(sink: RoleProcess): Promise<number> {
    const text = await this.metrics(sink);
    return sample(text, 'beacon_sink_records_total{stream="messages",outcome="duplicate"}') ?? 0;
  }

  async #allDuplicates(): Promise<number> {
    let total = this.#retiredDuplicates;
    for (const sink of this.sinks) total += await this.#duplicates(sink);
    return total;
  }

  /** Every message id stored, over every tenant of the load. */
  async #stored(api: RoleProcess): Promise<string[]> {
    const ids: string[] = [];
    for (const token of this.#tokens) ids.push(...(await storedIds(api.url, token)));
    return ids;
  }

  async #lag(): Promise<number | undefined> {
    const sink = this.sinks[0];
    return sink ? sample(await this.metrics(sink), LAG) : undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#loads].map((l) => l.stop()));
    await Promise.all([...this.apis, ...this.sinks].map((r) => r.stop()));
  }
}

/** The answers that were refusals. */
export const refusals = (answers: readonly Answer[]): Answer[] => answers.filter((a) => a.status !== 202);

/** One line for a test's diagnostics: what the clients saw and what was stored. */
export function describeRun(run: FaultRun): string {
  const refused = Object.entries(run.refused)
    .map(([kind, n]) => `${n} × ${kind}`)
    .join(', ');
  return (
    `${run.accepted} acknowledged, all stored exactly once; refused: ${refused || 'none'}` +
    (run.refusing
      ? ` (answered from ${run.refusing[0].toFixed(1)} s to ${run.refusing[1].toFixed(1)} s after the fault)`
      : '') +
    `; stored without a 202: ${run.storedUnannounced}; duplicates skipped by sinks: ${run.duplicatesSkipped}`
  );
}
