// Steps several tests share, written the way a person does them: by labels and roles.
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { UserRole } from '../../../lib/schema.ts';
import { setRole } from '../../support/fixtures.ts';
import { newPerson, type BrowserApp } from './harness.ts';

/** A phone's viewport, for the no-sideways-scrolling checks. */
export const PHONE = { width: 390, height: 844 };

/** An account made through the API (the person does not need a browser yet), with a role if given. */
export async function registerByApi(app: BrowserApp, role?: UserRole) {
  const person = newPerson();
  const res = await fetch(app.url('/api/v1/auth/register'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(person) });
  if (res.status !== 201) throw new Error(`registering ${person.username} answered ${res.status}: ${await res.text()}`);
  const id = ((await res.json()) as { data: { user: { id: string } } }).data.user.id;
  if (role) await setRole(app.ctx.db, id, role);
  return { ...person, id };
}

/** The header's account menu, present exactly while someone is signed in. */
export const accountMenu = (page: Page, username: string) => page.getByLabel(`Account menu for ${username}`);

export async function registerThroughPage(app: BrowserApp, page: Page, person = newPerson()) {
  await page.goto(app.url('/register'));
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await accountMenu(page, person.username).waitFor();
  return person;
}

export async function signInThroughPage(app: BrowserApp, page: Page, person: { username: string; password: string }) {
  await page.goto(app.url('/sign-in'));
  await page.getByLabel('Email or username').fill(person.username);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await accountMenu(page, person.username).waitFor();
}

export async function signOutThroughPage(page: Page, username: string) {
  await accountMenu(page, username).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  // The header's link: a page may offer its own (a channel's Subscribe asks a signed-out visitor to sign in).
  await page.getByRole('banner').getByRole('link', { name: 'Sign in' }).waitFor();
}

/** What tests read of a <video> (this project's type check has no DOM library). */
export interface VideoElement {
  currentTime: number;
  videoHeight: number;
  readyState: number;
  paused: boolean;
  muted: boolean;
  play(): Promise<void>;
}

/**
 * Starts a player muted. hls.js loads on demand and attaching it sets a new source, which
 * aborts a play() begun before it ("interrupted by a new load request"); so this waits for
 * the metadata of the attached source, and asks again if a reload still interrupts it.
 */
export async function startPlaying(player: Locator) {
  await expect.poll(() => player.evaluate((v: VideoElement) => v.readyState), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
  await expect
    .poll(() =>
      player.evaluate(async (v: VideoElement) => {
        v.muted = true;
        try {
          await v.play();
        } catch (error) {
          if ((error as { name?: string }).name !== 'AbortError') throw error;
        }
        return !v.paused;
      }),
    )
    .toBe(true);
}

// The page's globals, as far as recordTexts uses them.
interface PageGlobals {
  document: { body: unknown; querySelector(selector: string): { textContent: string | null } | null };
  MutationObserver: new (callback: () => void) => { observe(node: unknown, options: object): void };
  [recorded: string]: unknown;
}

/**
 * Records every text an element with this test id shows, in the page, as it changes (across
 * in-app navigations): values that last a moment are still seen. Returns a reader.
 */
export async function recordTexts(page: Page, testId: string): Promise<() => Promise<string[]>> {
  await page.evaluate((id) => {
    const g = globalThis as unknown as PageGlobals;
    const seen: string[] = [];
    g[`seen-${id}`] = seen;
    const record = () => {
      const text = g.document.querySelector(`[data-testid="${id}"]`)?.textContent;
      if (text && seen.at(-1) !== text) seen.push(text);
    };
    new g.MutationObserver(record).observe(g.document.body, { subtree: true, childList: true, characterData: true });
  }, testId);
  return () => page.evaluate((id) => (globalThis as unknown as PageGlobals)[`seen-${id}`] as string[], testId);
}

/** Accessibility violations axe rates serious or critical, as readable lines. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const { default: AxeBuilder } = await import('@axe-core/playwright');
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** How many CSS pixels the page is wider than its viewport (0: nothing overflows sideways). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
}

/** Once the page has loaded what it shows: no serious axe violations. */
export async function expectAccessible(page: Page) {
  await expect.poll(() => page.getByText('Loading…').count()).toBe(0);
  expect(await seriousViolations(page)).toEqual([]);
}

/** At a phone's width nothing scrolls sideways; the page's own size is put back afterwards. */
export async function expectFitsPhone(page: Page) {
  const size = page.viewportSize();
  await page.setViewportSize(PHONE);
  expect(await horizontalOverflow(page)).toBe(0);
  if (size) await page.setViewportSize(size);
}
