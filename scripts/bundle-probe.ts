// Bundles `beacon probe` into dist/probe/: its own sources and the pure-JS libraries it loads, as a few
// minified ES modules, which bin/beacon runs for `probe` when the bundle is newer than every source.
// The probe is the role with a memory budget (seed 000: 20,000 targets in about 100 MB): run from the
// sources it loads some 760 modules (typebox alone is 679 files), whose records, source text and code
// V8 keeps, and on a first start Node's TypeScript stripper too. Measured in bench/monitor.ts; see
// docs/operations.md, "Memory". Other roles run from the sources: they start worker threads and serve
// files by paths relative to their modules, which a bundle would move.
import { readFileSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}dist/probe`;
/** Libraries bundled in: plain JavaScript the probe imports. The rest stay ordinary imports (better-sqlite3 is native). */
const INLINE = new Set(['typebox', 'uuid', 're2js', 'yaml', 'commander']);
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  dependencies: Record<string, string>;
};
const external = Object.keys(pkg.dependencies).filter((name) => !INLINE.has(name));

process.stdout.write('bundling beacon probe into dist/probe … ');
rmSync(outDir, { recursive: true, force: true });
await build({
  input: {
    beacon: `${root}src/cli/main.ts`,
    // Started by the embedded log when embeddedLog.writerThread is on: see writer-client.ts.
    'writer-thread': `${root}src/log/embedded/writer-thread.ts`,
    // The probe's checking threads (monitor.workers): see prober-pool.ts.
    'prober-thread': `${root}src/monitor/prober-thread.ts`,
  },
  platform: 'node',
  logLevel: 'warn',
  external: [/^node:/, ...external.map((name) => new RegExp(`^${name}(/|$)`))],
  output: {
    dir: outDir,
    format: 'esm',
    minify: true,
    entryFileNames: '[name].mjs',
    chunkFileNames: '[name]-[hash].mjs',
  },
});
const main = statSync(`${outDir}/beacon.mjs`).size;
process.stdout.write(`done: dist/probe/beacon.mjs, ${Math.round(main / 1024)} KB\n`);
