// What the browser tests share: Debian's Chromium driven by playwright-core (it downloads nothing),
// started as this machine needs it, and the rule for a missing browser: skipped with a message
// saying how to install it, except under CI=true, where it is a failure.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
/** Screenshots for a human to look at (git-ignored). */
export const ARTIFACTS = resolve(import.meta.dirname, '../artifacts');

/**
 * Whether Chromium is there. When it is not, registers the test that says so (a skip locally, a
 * failure under CI=true); the caller then registers nothing else.
 */
export function haveChromium(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI'] === 'true') {
    it('has Chromium to run in (CI=true)', () => {
      throw new Error(
        `CI=true but ${CHROMIUM} does not exist: the ${what} browser test cannot run. .ci/run must install it: apt-get install -y chromium`,
      );
    });
  } else {
    const message = `SKIPPED the ${what} browser test: ${CHROMIUM} does not exist. Install Chromium to run it: apt-get install -y chromium`;
    console.warn(message);
    it.skip(message, () => {});
  }
  return false;
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
