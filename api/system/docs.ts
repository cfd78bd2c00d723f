import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Scalar } from '@scalar/hono-api-reference';
import { createRouter } from '../router.ts';

// The interactive API reference (Scalar) served entirely by the API: its page loads the
// standalone bundle of @scalar/api-reference from this route rather than from a public CDN,
// so the reference works on a self-hosted or offline network.

const apiReferenceScriptPath = '/docs/assets/api-reference.js';

interface Asset {
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

let asset: Promise<Asset> | undefined;

/** The package does not export its browser build, so it is found beside its entry point. */
function loadAsset(): Promise<Asset> {
  asset ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('@scalar/api-reference');
    const body = await readFile(path.join(path.dirname(entry), 'browser', 'standalone.js'));
    return { body, gzip: gzipSync(body), etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
  })();
  asset.catch(() => (asset = undefined)); // a failed load is retried by the next request
  return asset;
}

export function docsRoutes(options: { openApiPath: string; pageTitle: string }) {
  const router = createRouter();
  router.get(
    '/docs',
    Scalar({
      url: options.openApiPath,
      pageTitle: options.pageTitle,
      cdn: apiReferenceScriptPath,
      // Nothing from outside the stack: no web fonts, no usage reporting.
      withDefaultFonts: false,
      telemetry: false,
    }),
  );
  router.get(apiReferenceScriptPath, async (c) => {
    const { body, gzip, etag } = await loadAsset();
    c.header('etag', etag);
    c.header('cache-control', 'public, max-age=86400');
    c.header('vary', 'accept-encoding');
    if (c.req.header('if-none-match') === etag) return c.body(null, 304);
    c.header('content-type', 'text/javascript; charset=utf-8');
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('content-encoding', 'gzip');
      return c.body(new Uint8Array(gzip));
    }
    return c.body(new Uint8Array(body));
  });
  return router;
}
