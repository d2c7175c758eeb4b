import { parseArgs } from 'node:util';

/** Command-line options every benchmark accepts (bench/run.ts passes them through). */
export interface BenchOptions {
  /** A smoke run of a few seconds per benchmark, e.g. for CI. */
  readonly quick: boolean;
  /** When set, the server process writes a V8 CPU profile into this directory. */
  readonly profileDir: string | undefined;
  /** Runs only the benchmarks whose titles are listed (case-insensitive); all when empty. */
  readonly only: readonly string[];
}

export function parseBenchOptions(args: readonly string[] = process.argv.slice(2)): BenchOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: 'boolean', default: false },
      profile: { type: 'string' },
      only: { type: 'string', multiple: true, default: [] },
    },
  });
  return {
    quick: values.quick,
    profileDir: values.profile,
    only: values.only.flatMap((o) => o.split(',')).map((o) => o.trim().toLowerCase()),
  };
}
