// SPDX-License-Identifier: MIT
// Builds the /admin UI into dist/, which ssecast serves at /admin (hence base '/admin/').
// @ssecast/client is compiled from its TypeScript source, so clients/js needs no build step
// first; react is deduplicated so the component and the page share one React.
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const client = fileURLToPath(new URL('../../clients/js/src/', import.meta.url));

export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  resolve: {
    alias: [
      { find: /^@ssecast\/client\/react$/, replacement: `${client}react/index.ts` },
      { find: /^@ssecast\/client$/, replacement: `${client}index.ts` },
    ],
    dedupe: ['react', 'react-dom', 'eventsource-parser'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // Hashed file names: ssecast can serve assets/* as immutable and index.html as no-cache.
    assetsDir: 'assets',
  },
  server: {
    // `npm run dev` against a local hub: SSECAST_URL=http://127.0.0.1:8080 npm run dev
    proxy: process.env['SSECAST_URL'] ? { '/api': process.env['SSECAST_URL'] } : {},
  },
});
