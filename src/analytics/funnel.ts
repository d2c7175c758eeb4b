/**
 * Funnels: 2 to 8 ordered steps, each a goal (saved, by name, or given inline). A visitor reaches
 * step k when they completed steps 1…k in that order, within one visit or within N days of step 1.
 * For each step: visitors, the drop-off from the step before, and the median time to the next step.
 */
import { BeaconError } from '../errors/catalog.ts';
import { compileGoal, describeGoal, parseGoalSpec, type Goal, type GoalSpec } from './goals.ts';
import type { SessionRow, Site } from './model.ts';
import type { AnalyticsReader } from './store/repositories.ts';
import {
  analysisMeta,
  analysisScope,
  byVisitor,
  median,
  type AnalysisMeta,
  type AnalysisRequest,
} from './visit-analysis.ts';
import { forEachVisitGroup, sampleFor, sampleMeta } from './visit-sample.ts';

/** A funnel step: a saved goal by name, or a goal's definition given inline. */
export type FunnelStepRef = { readonly goal: string } | GoalSpec;

/** The body of `POST /v1/sites/:id/funnel`. */
export interface FunnelQuery extends AnalysisRequest {
  readonly steps: readonly FunnelStepRef[];
  /** `visit` (the default): all steps in one visit; `Nd`: within N days (1–31) of the first step. */
  readonly within?: string | undefined;
}

/** One step of a funnel's answer. */
export interface FunnelStep {
  readonly label: string;
  readonly visitors: number;
  /** Share of the first step's visitors who got this far, %. */
  readonly conversionRate: number;
  /** Visitors of the step before who did not get here, and their share of it (%). */
  readonly dropoff: number;
  readonly dropoffRate: number;
  /** Median time from this step to the next, of those who took it; null at the last step or when nobody did. */
  readonly medianSecondsToNext: number | null;
}

/** The answer of a funnel. */
export interface FunnelResult {
  readonly steps: FunnelStep[];
  /** Visitors in the range (after filters): those who could have entered the funnel. */
  readonly visitors: number;
  readonly within: string;
  readonly meta: AnalysisMeta;
}

const invalid = (message: string) => new BeaconError('QUERY_INVALID', message);
const DAY_MS = 86_400_000;
/** Ranges a funnel may cover, days. */
export const FUNNEL_MAX_DAYS = 366;

/** The longest chain of steps a visitor's timeline completes in order within `windowMs` of its first step. */
export function bestChain(
  timeline: readonly { readonly t: number; readonly step: SessionRow['steps'][number] }[],
  goals: readonly Goal[],
  windowMs: number,
): number[] {
  // chains[k]: times of steps 1…k+1 of the chain that reached step k+1 with the latest start, which
  // leaves the most room for the steps after it.
  const chains: (number[] | undefined)[] = [];
  for (const { t, step } of timeline) {
    for (let k = goals.length - 1; k >= 1; k--) {
      const before = chains[k - 1];
      if (!before || t - before[0]! > windowMs || t < before.at(-1)! || !goals[k]!.matches(step)) continue;
      const current = chains[k];
      if (!current || before[0]! > current[0]!) chains[k] = [...before, t];
    }
    if (goals[0]!.matches(step)) chains[0] = [t];
  }
  for (let k = chains.length - 1; k >= 0; k--) if (chains[k]) return chains[k]!;
  return [];
}

/** Answers a funnel over a site's visits, sampled beyond `budget` visits. */
export async function runFunnel(
  reader: AnalyticsReader,
  site: Site,
  q: FunnelQuery,
  now: number,
  budget: number,
): Promise<FunnelResult> {
  if (!Array.isArray(q.steps) || q.steps.length < 2 || q.steps.length > 8)
    throw invalid('a funnel has 2 to 8 steps');
  const within = q.within ?? 'visit';
  const days = /^([1-9]|[12][0-9]|3[01])d$/.exec(within)?.[1];
  if (within !== 'visit' && days === undefined)
    throw invalid('within is "visit" or a number of days from 1d to 31d');
  const scope = await analysisScope(reader, site, q, now, FUNNEL_MAX_DAYS);
  const goals = q.steps.map((ref, i): Goal => {
    const name = (ref as { goal?: unknown }).goal;
    if (typeof name === 'string') {
      const goal = scope.goals.get(name);
      if (!goal) throw new BeaconError('GOAL_UNKNOWN', `steps[${i}]: no goal named ${JSON.stringify(name)}`);
      return goal;
    }
    try {
      const spec = parseGoalSpec(ref);
      return compileGoal(describeGoal(spec), spec);
    } catch (err) {
      throw invalid(`steps[${i}]: ${(err as Error).message}`);
    }
  });
  const windowMs = days === undefined ? Infinity : Number(days) * DAY_MS;
  const sample = {
    ...(await sampleFor(reader, site, scope.from, scope.to, budget)),
    parts: scope.parts(true),
  };
  const reached = goals.map(() => 0);
  const gaps: number[][] = goals.map(() => []);
  let visitors = 0;
  const timeline = (visits: readonly SessionRow[]) =>
    visits.flatMap((v) => v.steps.map((step) => ({ t: v.startedAt + step.at, step })));
  await forEachVisitGroup(reader, sample, (visits) => {
    for (const own of byVisitor(visits.filter(scope.keep)).values()) {
      visitors += 1;
      let best: number[] = [];
      if (days === undefined) {
        for (const visit of own) {
          const chain = bestChain(timeline([visit]), goals, windowMs);
          if (chain.length > best.length) best = chain;
        }
      } else {
        best = bestChain(
          timeline(own).sort((a, b) => a.t - b.t),
          goals,
          windowMs,
        );
      }
      for (let k = 0; k < best.length; k++) {
        reached[k]! += 1;
        if (k + 1 < best.length) gaps[k]!.push(best[k + 1]! - best[k]!);
      }
    }
  });
  const { scale } = sampleMeta(sample.buckets);
  const scaled = (n: number) => Math.round(n * scale);
  const rate = (a: number, b: number) => (b === 0 ? 0 : Number(((a * 100) / b).toFixed(2)));
  return {
    steps: goals.map((goal, k) => {
      const before = k === 0 ? reached[0]! : reached[k - 1]!;
      const gap = median(gaps[k]!);
      return {
        label: goal.name,
        visitors: scaled(reached[k]!),
        conversionRate: rate(reached[k]!, reached[0]!),
        dropoff: scaled(before - reached[k]!),
        dropoffRate: rate(before - reached[k]!, before),
        medianSecondsToNext: gap === null ? null : Math.round(gap / 1000),
      };
    }),
    visitors: scaled(visitors),
    within,
    meta: analysisMeta(site, scope, sample),
  };
}
