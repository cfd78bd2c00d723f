// The browser tests' harness: per test file, this file's own API and gateway processes
// (api/server.ts and realtime/server.ts on the file's database, NATS prefix and S3 prefix)
// serving the built web app, optionally real workers, and Debian's Chromium driven by
// playwright-core. A failed test leaves a screenshot and the page's console log under
// test/browser/.artifacts/ (git-ignored) and prints where.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { repoRoot } from '../../../scripts/stack/paths.ts';
import { useTestContext, type TestContext } from '../../support/context.ts';
import { freePort } from '../../support/ports.ts';
import { spawnApiProcess, spawnGatewayProcess, type ServiceProcess } from '../../support/processes.ts';
import { withWorkers } from '../../support/workers.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium-headless-shell';
export const artifactsDir = path.join(repoRoot, 'test/browser/.artifacts');

// Flags that work on a headless CI machine: no sandbox (containers run as root), no GPU,
// and no background traffic to Google.
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Chromium's headless shell with a fresh profile (playwright-core makes a temporary --user-data-dir per launch). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface BrowserAppOptions {
  /** Environment of the API process, e.g. a short ACCESS_TOKEN_TTL_SECONDS. */
  api?: Record<string, string>;
  /** Real platform + media workers in this process, for uploads and transcodes. */
  workers?: boolean;
  /**
   * Runs once the app's origin is known and before its processes and workers start (e.g. an
   * nginx-rtmp whose hooks call the API); what it returns is added to their environment.
   */
  prepare?: (ctx: TestContext, origin: string) => Promise<Record<string, string> | void>;
}

export interface BrowserApp {
  ctx: TestContext;
  api: ServiceProcess;
  gateway: ServiceProcess;
  /** `http://127.0.0.1:<api port>` — the app's origin. */
  origin: string;
  url(pathname: string): string;
  /** A page in a new browser context (its own storage: one "person"). Closed after the test; on failure captured first. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** Console lines and page errors of every page of the current test. */
  consoleLog: string[];
}

export function useBrowserApp(options: BrowserAppOptions = {}): BrowserApp {
  const t = useTestContext();
  const app = { consoleLog: [] as string[] } as BrowserApp;
  let browser: Browser;
  let contexts: BrowserContext[] = [];
  let pages: Page[] = [];
  let stopWorkers: (() => void) | undefined;
  let workersDone: Promise<unknown> | undefined;

  beforeAll(async () => {
    app.ctx = t.ctx;
    const [apiPort, gatewayPort] = [await freePort(), await freePort()];
    app.origin = `http://127.0.0.1:${apiPort}`;
    const shared = {
      PUBLIC_API_URL: app.origin,
      PUBLIC_REALTIME_URL: `ws://127.0.0.1:${gatewayPort}/ws`,
      CORS_ORIGINS: app.origin,
      // /health (which the spawn waits for) checks five services; on a loaded machine their
      // pings take longer than the 2 s production bound.
      HEALTH_TIMEOUT_MS: '15000',
      // Tests register many accounts from one address.
      RATE_LIMIT_REGISTER_PER_HOUR: '1000',
      RATE_LIMIT_LOGIN_PER_MINUTE: '1000',
    };
    const prepared = (await options.prepare?.(t.ctx, app.origin)) ?? {};
    const env = { ...shared, ...options.api, ...prepared };
    [app.api, app.gateway] = await Promise.all([spawnApiProcess(t.ctx, env, apiPort), spawnGatewayProcess(t.ctx, env, gatewayPort)]);
    if (options.workers) {
      // What the workers write into mail and notifications links into this file's app.
      t.ctx.config.publicUrls = { ...t.ctx.config.publicUrls, api: app.origin, web: app.origin };
      const stop = new Promise<void>((resolve) => (stopWorkers = resolve));
      workersDone = withWorkers(t.ctx, () => stop);
    }
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    stopWorkers?.();
    await workersDone;
    await Promise.all([app.api?.stop(), app.gateway?.stop()]);
  });

  beforeEach((test) => {
    app.consoleLog.length = 0;
    test.onTestFinished(async ({ task }) => {
      if (task.result?.state === 'fail') {
        const dir = path.join(artifactsDir, `${path.basename(task.file?.name ?? 'test')}-${task.name}`.replace(/[^\w.-]+/g, '_').slice(0, 150));
        mkdirSync(dir, { recursive: true });
        for (const [i, page] of pages.entries()) await page.screenshot({ path: path.join(dir, `page-${i}.png`), fullPage: true }).catch(() => {});
        writeFileSync(path.join(dir, 'console.log'), `${app.consoleLog.join('\n')}\n`);
        process.stderr.write(`\nbrowser test failed: screenshots and console log in ${path.relative(repoRoot, dir)}/\n`);
      }
      await Promise.all(contexts.map((c) => c.close().catch(() => {})));
      contexts = [];
      pages = [];
    });
  });

  app.url = (pathname) => new URL(pathname, app.origin).href;
  app.newPage = async (contextOptions = {}) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
    contexts.push(context);
    const page = await context.newPage();
    const n = pages.push(page) - 1;
    page.on('console', (m) => app.consoleLog.push(`[page ${n}] ${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => app.consoleLog.push(`[page ${n}] pageerror: ${e.message}`));
    page.on('requestfailed', (r) => app.consoleLog.push(`[page ${n}] request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`));
    return page;
  };
  return app;
}

let counter = 0;
/** A username and email nobody else in this run has. */
export function newPerson() {
  const name = `u${Date.now().toString(36)}${(counter++).toString(36)}${Math.floor(Math.random() * 1e4)}`;
  return { username: name.slice(0, 30), email: `${name}@example.test`, password: 'correct horse battery' };
}
