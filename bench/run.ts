/**
 * Runs every benchmark in turn and ends with one table of each figure that has a target. A missed
 * target is reported, not failed on: the exit code is non-zero only if a benchmark broke.
 *
 *   npm run bench [-- --quick] [-- --profile DIR] [-- --only ingest,fan-out]
 */
import { runAlerts } from './alerts.ts';
import { runAnalytics } from './analytics.ts';
import { runFanout } from './fanout.ts';
import { runHostile } from './hostile.ts';
import { runIngest } from './ingest.ts';
import { runOccupancy } from './occupancy.ts';
import { parseBenchOptions } from './lib/options.ts';
import { step } from './lib/progress.ts';
import { printTable, verdict, type BenchReport, type Figure } from './lib/report.ts';
import { runPages } from './pages.ts';
import { runSink } from './sink.ts';
import { runStatusPage } from './status-page.ts';

const options = parseBenchOptions();
const benches = [
  { title: 'Ingest', run: runIngest },
  { title: 'Pages', run: runPages },
  { title: 'Fan-out', run: runFanout },
  { title: 'Sink', run: runSink },
  { title: 'Occupancy', run: runOccupancy },
  { title: 'Analytics', run: runAnalytics },
  { title: 'Hostile', run: runHostile },
  { title: 'Alerts', run: runAlerts },
  { title: 'Status page', run: runStatusPage },
].filter((b) => options.only.length === 0 || options.only.includes(b.title.toLowerCase()));
const reports: BenchReport[] = [];
const broken: string[] = [];
for (const bench of benches) {
  step(`benchmark ${reports.length + broken.length + 1} of ${benches.length}: ${bench.title}`);
  try {
    reports.push(await bench.run(options));
  } catch (err) {
    console.error(`${bench.title} broke:`, err);
    broken.push(bench.title);
  }
}

const targeted: Figure[] = reports.flatMap((report) =>
  report.figures.filter((f) => f.target).map((f) => ({ ...f, name: `${report.title}: ${f.name}` })),
);
printTable(`Summary${options.quick ? ' (--quick: smoke run, not representative)' : ''}`, targeted);
const met = targeted.filter((f) => verdict(f) === 'met').length;
console.log(`\n${met} of ${targeted.length} targets met.`);
if (broken.length > 0) {
  console.log(`Broken: ${broken.join(', ')}.`);
  process.exitCode = 1;
}
