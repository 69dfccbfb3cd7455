// Debian's Chromium driven by playwright-core (it downloads nothing), started as this machine needs
// it: for the browser tests (chromium.ts) and the dashboard benchmark (bench/dashboard.ts), which
// runs outside vitest and so cannot import the tests' helpers.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots for a human to look at (git-ignored). */
export const ARTIFACTS = resolve(import.meta.dirname, '../artifacts');

/** Whether Chromium is installed where the browser tests and the dashboard benchmark look for it. */
export function chromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught errors and console errors of the page, for the tests to require none. */
  readonly pageErrors: string[];
  readonly consoleErrors: string[];
}

/** Headless Chromium with a fresh profile in `profileDir`, with no background traffic (the network here is closed). */
export async function openBrowser(profileDir: string): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1440, height: 900 },
    timeout: 30_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  return { context, page, pageErrors, consoleErrors };
}
