// Runs the tests on the project's Node 24 and ends with the `N passed, N failed` line.
//
//   node scripts/test.mjs             every test (unit tests beside the code, integration and contract
//                                     tests under test/) except the fault tests
//   node scripts/test.mjs --faults    the fault tests (test/faults/): one file at a time, because each
//                                     kills brokers and databases of its own and loads the machine
//   node scripts/test.mjs FILE…       just these files
//
// With TEST_TOTALS=FILE the summary reporter also appends its counts to FILE, and
// `node scripts/test.mjs --totals FILE` prints the sum of every run recorded there (.ci/run's last line).
import { spawn } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';

const FAULTS = 'test/faults/**/*.test.ts';
const args = process.argv.slice(2);

if (args[0] === '--totals') {
  const runs = readFileSync(args[1], 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const sum = (key) => runs.reduce((n, run) => n + run[key], 0);
  const skipped = sum('skipped');
  console.log(`${sum('passed')} passed, ${sum('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(0);
}

const faults = args[0] === '--faults';
const files = faults
  ? globSync(FAULTS)
  : args.length > 0
    ? args
    : globSync(['src/**/*.test.ts', 'web/src/**/*.test.ts', 'test/**/*.test.ts'], { exclude: [FAULTS] });
const child = spawn(
  process.execPath,
  [
    '--test',
    // Integration tests start servers, browsers and child processes: two files at a time fit 2 cores.
    `--test-concurrency=${faults ? 1 : 2}`,
    '--test-timeout=300000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./scripts/summary-reporter.mjs',
    '--test-reporter-destination=stdout',
    ...files,
  ],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
