// Runs every test (unit tests beside the code, integration and contract tests under test/) on the
// project's Node 24 and ends with the `N passed, N failed` line. Extra arguments narrow the files.
import { spawn } from 'node:child_process';

const files = process.argv.slice(2);
const patterns = files.length > 0 ? files : ['src/**/*.test.ts', 'web/src/**/*.test.ts', 'test/**/*.test.ts'];
const args = [
  '--test',
  // Integration tests start servers, browsers and child processes: two files at a time fit 2 cores.
  '--test-concurrency=2',
  '--test-timeout=300000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=./scripts/summary-reporter.mjs',
  '--test-reporter-destination=stdout',
  ...patterns,
];
const child = spawn(process.execPath, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
