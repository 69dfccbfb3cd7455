// Stops what has started, in reverse order: used when startNode fails halfway and by stop().
import type { Logger } from './logger.js';

export class Teardown {
  private readonly steps: { what: string; run: () => unknown }[] = [];

  constructor(private readonly log: Logger) {}

  add(what: string, run: () => unknown): void {
    this.steps.push({ what, run });
  }

  /** Runs every step once, newest first; a failing step is logged and the rest still run. */
  async run(): Promise<void> {
    for (const s of this.steps.splice(0).reverse()) {
      try {
        await s.run();
      } catch (err) {
        this.log.warn({ err, step: s.what }, 'error while stopping');
      }
    }
  }
}
