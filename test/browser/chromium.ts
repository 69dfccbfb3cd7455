// What the browser tests share: Debian's Chromium driven by playwright-core (it downloads nothing),
// started as this machine needs it, and the rule for a missing browser: skipped with a message
// saying how to install it, except under CI=true, where it is a failure.
import { it } from 'vitest';
import { CHROMIUM, chromiumInstalled } from './launch.js';

export { ARTIFACTS, openBrowser, type Browser } from './launch.js';

/**
 * Whether Chromium is there. When it is not, registers the test that says so (a skip locally, a
 * failure under CI=true); the caller then registers nothing else.
 */
export function haveChromium(what: string): boolean {
  if (chromiumInstalled()) return true;
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
