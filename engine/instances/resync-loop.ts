import type { Logger } from '../../api/log.ts';

/** A level-based reconcile loop: one pass at a time, re-run when triggered during a pass, and at least every interval. */
export interface ResyncLoop {
  /** Asks for a pass soon (coalesced with other triggers). */
  trigger(): void;
  /** Runs a pass and resolves when it is done. */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a loop around `pass`; the first pass runs at once. */
export function startResyncLoop(pass: () => Promise<void>, opts: { intervalMs: number; log: Logger; name: string; debounceMs?: number }): ResyncLoop {
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let soon: NodeJS.Timeout | undefined;
  const run = (): Promise<void> => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    clearTimeout(timer);
    running = (async () => {
      do {
        again = false;
        const started = Date.now();
        try {
          await pass();
          if (Date.now() - started > 5000) opts.log.warn(`${opts.name} pass was slow`, { ms: Date.now() - started });
        } catch (e) {
          if (!stopped) opts.log.warn(`${opts.name} pass failed`, { error: e });
        }
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(run, opts.intervalMs);
    });
    return running;
  };
  void run();
  return {
    trigger() {
      if (stopped || soon !== undefined) return;
      soon = setTimeout(() => {
        soon = undefined;
        void run();
      }, opts.debounceMs ?? 20);
    },
    runNow: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(soon);
      await running;
    },
  };
}
