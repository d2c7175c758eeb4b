// Builds the browser agent: agent/dist/agent.js (the script-tag IIFE) and agent/dist/agent.mjs (the ES
// module), minified, and reports each one's gzipped size against the 1.5 KB budget. Over budget fails.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const BUDGET = 1536;

const outputs = [
  { entry: 'src/script.ts', file: 'agent.js', format: 'iife' as const },
  { entry: 'src/index.ts', file: 'agent.mjs', format: 'es' as const },
];
let over = false;
for (const [i, out] of outputs.entries()) {
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    build: {
      outDir: 'dist',
      emptyOutDir: i === 0,
      target: 'es2019',
      minify: true,
      lib: { entry: root + out.entry, formats: [out.format], name: 'beaconAgent', fileName: () => out.file },
    },
  });
  const code = readFileSync(`${root}dist/${out.file}`);
  const gzipped = gzipSync(code, { level: 9 }).length;
  over ||= gzipped > BUDGET;
  process.stdout.write(
    `agent/dist/${out.file}: ${code.length} bytes, ${gzipped} bytes gzipped (budget ${BUDGET})${gzipped > BUDGET ? ' OVER BUDGET' : ''}\n`,
  );
}
if (over) process.exit(1);
