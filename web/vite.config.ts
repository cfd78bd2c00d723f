import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The web app. `npm run web:build` writes dist/web, which the API serves at `/`;
// `npm run web:dev` serves it with hot reload and forwards the API and the socket to the
// running stack (API_URL, REALTIME_URL override the local defaults).
const api = process.env.API_URL ?? 'http://127.0.0.1:3000';
const realtime = process.env.REALTIME_URL ?? 'ws://127.0.0.1:3001';
// The origin the gateway expects of browsers: the API's public one (CORS_ORIGINS' default).
const appOrigin = new URL(process.env.PUBLIC_API_URL ?? 'http://localhost:3000').origin;

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // hls.js (light) is one 360 KB chunk by design, loaded only by the player.
    chunkSizeWarningLimit: 400,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: api, changeOrigin: true },
      '/docs': { target: api, changeOrigin: true },
      '/health': { target: api, changeOrigin: true },
      // The gateway admits browsers from CORS_ORIGINS (the API's origin by default), and this
      // page's origin is Vite's: present the API's, as the page would when the API serves it.
      '/ws': {
        target: realtime,
        ws: true,
        changeOrigin: true,
        configure: (proxy) => proxy.on('proxyReqWs', (request) => request.setHeader('origin', appOrigin)),
      },
    },
  },
});
