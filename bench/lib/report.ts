import { count, ms, ratio } from './format.ts';

export type Unit = 'req/s' | 'events/s' | 'rows/s' | 'ms' | 'ratio' | 'messages' | 'frames' | 'bytes';

/** What a figure is expected to reach. A benchmark only reports against it; it never fails on it. */
export interface Target {
  readonly op: '>=' | '<=' | '<';
  readonly value: number;
}

/** One measured number, as printed in a benchmark's table and in the final summary. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: Unit;
  readonly target?: Target | undefined;
  /** The 1-minute load average when it was measured (the machine may be shared). */
  readonly load?: number | undefined;
}

/** What one benchmark hands back to bench/run.ts. */
export interface BenchReport {
  readonly title: string;
  readonly figures: readonly Figure[];
}

export function formatValue(value: number, unit: Unit): string {
  if (Number.isNaN(value)) return 'n/a';
  switch (unit) {
    case 'ms':
      return ms(value);
    case 'ratio':
      return ratio(value);
    default:
      return `${count(value)} ${unit}`;
  }
}

function formatTarget(figure: Figure): string {
  const { target } = figure;
  if (!target) return '';
  const op = target.op === '>=' ? '≥' : target.op === '<=' ? '≤' : '<';
  return `${op} ${formatValue(target.value, figure.unit)}`;
}

/** "met", "MISSED", or "" for a figure without a target. */
export function verdict(figure: Figure): string {
  const { target, value } = figure;
  if (!target) return '';
  const met =
    target.op === '>='
      ? value >= target.value
      : target.op === '<='
        ? value <= target.value
        : value < target.value;
  return met ? 'met' : 'MISSED';
}

/**
 * Prints figures as an aligned table on stdout, each with its target and whether it was met, and the
 * load average beside it when the figures carry one.
 */
export function printTable(title: string, figures: readonly Figure[]): void {
  const withLoad = figures.some((f) => f.load !== undefined);
  const rows = figures.map((f) => [
    f.name,
    formatValue(f.value, f.unit),
    formatTarget(f),
    verdict(f),
    ...(withLoad ? [f.load === undefined ? '' : f.load.toFixed(2)] : []),
  ]);
  const header = ['figure', 'value', 'target', '', ...(withLoad ? ['load'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}
