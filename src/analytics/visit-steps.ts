import type { Step } from './model.ts';

/**
 * A visit keeps at most this many steps (its first ones, by time): funnels, journeys and goals look
 * no further into a visit, and a visit's row stays small however long it runs.
 */
export const MAX_STEPS = 100;

/**
 * `steps` with `step` in its place by time (after steps of the same time, so arrival order breaks
 * ties), cut to `MAX_STEPS`. A new array: session rows are shared between batches.
 */
export function withStep(steps: readonly Step[], step: Step): readonly Step[] {
  let i = steps.length;
  while (i > 0 && steps[i - 1]!.at > step.at) i--;
  if (i >= MAX_STEPS) return steps;
  const next = [...steps.slice(0, i), step, ...steps.slice(i)];
  if (next.length > MAX_STEPS) next.length = MAX_STEPS;
  return next;
}
