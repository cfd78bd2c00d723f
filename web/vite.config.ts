import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The web app. `npm run web:build` writes dist/web, which the API serves at `/`;
// `npm run web:dev` serves it with hot reload and forwards the API and the socket to the
// running stack (API_URL, REALTIME_URL override the local defaults).
const api = process.env.API_URL ?? 'http://127.0.0.1:3000';
const realtime = process.env.REALTIME_URL ?? 'ws://127.0.0.1:3001';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: api, changeOrigin: true },
      '/docs': { target: api, changeOrigin: true },
      '/health': { target: api, changeOrigin: true },
      '/ws': { target: realtime, ws: true, changeOrigin: true },
    },
  },
});
