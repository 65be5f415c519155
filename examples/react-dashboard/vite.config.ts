// SPDX-License-Identifier: MIT
// Vite config of the example. `npm start` (start.mjs) passes the hub's JWT secret in
// SSECAST_EXAMPLE_JWT_SECRET, so the dev server can answer GET /token like an app backend.
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { tokenMiddleware } from './token-endpoint';

function tokenRoute(): Plugin {
  const secret = process.env['SSECAST_EXAMPLE_JWT_SECRET'];
  const ttl = Number(process.env['SSECAST_EXAMPLE_TOKEN_TTL'] ?? 60);
  return {
    name: 'ssecast-example-token',
    configureServer(server) {
      if (secret) server.middlewares.use(tokenMiddleware(secret, ttl));
    },
    configurePreviewServer(server) {
      if (secret) server.middlewares.use(tokenMiddleware(secret, ttl));
    },
  };
}

export default defineConfig({
  plugins: [react(), tokenRoute()],
  server: { host: '127.0.0.1', port: 5173, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true },
});
