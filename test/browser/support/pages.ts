// Steps several tests share, written the way a person does them: by labels and roles.
import type { Page } from 'playwright-core';
import { newPerson, type BrowserApp } from './harness.ts';

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
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
}
