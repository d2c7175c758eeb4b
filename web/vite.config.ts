import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The dashboard: built into web/dist, which the Beacon server serves at `/`. */
export default defineConfig({
  root,
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    // `vite --config web/vite.config.ts` for development, against a `beacon start` on the default port.
    proxy: { '/v1': { target: 'http://localhost:8080', ws: true } },
  },
});
