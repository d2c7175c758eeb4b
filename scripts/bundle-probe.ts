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

/**
 * Node's built-in modules, taken with `process.getBuiltinModule` instead of `import … from 'node:…'`.
 * An ES import of a built-in builds a module namespace from every export, and so runs the lazy
 * getters some of them have: `node:http`'s WebSocket, CloseEvent and MessageEvent load undici,
 * http2 and the web streams (about 75 more internal modules, 14 MB of RSS in an empty `node`), and
 * `node:fs`'s and `node:util`'s getters load more. The idle probe holds about 4 MB less RSS without
 * them (bench/README.md, "Second pass"). Each import gets a small module
 * that exports the built-in's own value properties; an import of a lazy getter's name then fails the
 * build, never the probe.
 */
const BUILTIN = '\0builtin:';
const builtins = {
  name: 'builtins-without-getters',
  resolveId(source: string) {
    return source.startsWith('node:') ? BUILTIN + source : null;
  },
  load(id: string) {
    if (!id.startsWith(BUILTIN)) return null;
    const name = id.slice(BUILTIN.length);
    const module = process.getBuiltinModule(name) as Record<string, unknown>;
    const values = Object.entries(Object.getOwnPropertyDescriptors(module))
      .filter(([key, d]) => 'value' in d && /^[A-Za-z_$][\w$]*$/.test(key) && key !== 'default')
      .map(([key]) => key);
    return [
      `const m = process.getBuiltinModule(${JSON.stringify(name)});`,
      'export default m;',
      `export const { ${values.join(', ')} } = m;`,
    ].join('\n');
  },
};

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
  plugins: [builtins],
  external: [...external.map((name) => new RegExp(`^${name}(/|$)`))],
  output: {
    dir: outDir,
    format: 'esm',
    minify: true,
    // Escapes the few non-ASCII characters (help texts' arrows and quotes): V8 keeps each module's
    // source for its lifetime, as two bytes a character when any character needs it (about 0.5 MB
    // for the modules the probe loads).
    charset: 'ascii',
    entryFileNames: '[name].mjs',
    chunkFileNames: '[name]-[hash].mjs',
  },
});
const main = statSync(`${outDir}/beacon.mjs`).size;
process.stdout.write(`done: dist/probe/beacon.mjs, ${Math.round(main / 1024)} KB\n`);
