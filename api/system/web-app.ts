import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Context } from 'hono';
import { createRouter } from '../router.ts';

// The web app (web/, built by `npm run web:build`) served same-origin by the API: hashed
// assets cached for a year, index.html for every other page path (the app routes in the
// browser), and the API's own prefixes left to their routes and their JSON 404.

/** Paths the API answers itself; an unknown one is the API's 404, never the app. */
export const API_PREFIXES = ['/api/', '/docs', '/health', '/metrics', '/internal/'] as const;
const isApiPath = (p: string) => API_PREFIXES.some((prefix) => p === prefix.replace(/\/$/, '') || p.startsWith(prefix));

export interface WebAppOptions {
  /** The built app (dist/web). */
  dir: string;
  /** Origins the page may talk to besides its own, for the Content-Security-Policy. */
  origins: { realtime: string; s3: string; hls: string };
  /** Told to the page (a meta tag), so one build serves every deployment. */
  realtimeUrl: string;
}

interface File {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt', '.map']);

/**
 * The page's policy: scripts and styles only from this origin (Vite emits no inline code),
 * media and segment fetches from S3 and live HLS, the socket to the gateway, hls.js's worker
 * from a blob, and no framing.
 */
export function contentSecurityPolicy(origins: WebAppOptions['origins']): string {
  const { realtime, s3, hls } = origins;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self' data: blob: ${s3}`,
    `media-src 'self' blob: ${s3} ${hls}`,
    `connect-src 'self' ${realtime} ${s3} ${hls}`,
    "worker-src 'self' blob:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

async function loadFile(file: string, transform?: (text: string) => string): Promise<File> {
  const ext = path.extname(file);
  let body = await readFile(file);
  if (transform) body = Buffer.from(transform(body.toString('utf8')));
  return {
    body,
    gzip: COMPRESSIBLE.has(ext) && body.length > 512 ? gzipSync(body) : undefined,
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** Routes for the app; mount last, after every API route. */
export function webAppRoutes(options: WebAppOptions) {
  const router = createRouter();
  const csp = contentSecurityPolicy(options.origins);
  // The file list is read once the build exists; a missing build is looked for again next time.
  let files: Promise<Map<string, File>> | undefined;
  const load = () => {
    files ??= (async () => {
      const names = await listFiles(options.dir);
      if (!names.includes('index.html')) throw new Error('index.html missing');
      const map = new Map<string, File>();
      for (const name of names) {
        const fill = name === 'index.html' ? (html: string) => html.replace('content="__REALTIME_URL__"', `content="${escapeAttribute(options.realtimeUrl)}"`) : undefined;
        map.set(`/${name}`, await loadFile(path.join(options.dir, name), fill));
      }
      return map;
    })();
    files.catch(() => (files = undefined));
    return files;
  };

  const send = (c: Context, file: File, cacheControl: string) => {
    c.header('cache-control', cacheControl);
    c.header('etag', file.etag);
    c.header('vary', 'accept-encoding');
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304);
    c.header('content-type', file.type);
    if (file.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('content-encoding', 'gzip');
      return c.body(new Uint8Array(file.gzip));
    }
    return c.body(new Uint8Array(file.body));
  };

  router.on(['GET', 'HEAD'], '*', async (c, next) => {
    const p = c.req.path;
    if (isApiPath(p)) return next();
    const map = await load().catch(() => undefined);
    if (!map) {
      c.header('cache-control', 'no-store');
      return c.text('The web app is not built: run `npm run web:build` (npm start does it for you).', 503);
    }
    const file = map.get(p);
    // Vite names every file under assets/ by its content hash: it never changes.
    if (file && p.startsWith('/assets/')) return send(c, file, 'public, max-age=31536000, immutable');
    if (file && p !== '/index.html') return send(c, file, 'public, max-age=3600');
    // A path with an extension that is not a file is a missing asset, not a page.
    if (!file && p.startsWith('/assets/')) return next();
    c.header('content-security-policy', csp);
    return send(c, map.get('/index.html')!, 'no-cache');
  });
  return router;
}
