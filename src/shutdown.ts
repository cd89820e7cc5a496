import type { Logger } from './logger.js';

/**
 * The one place that reacts to signals: the first SIGINT/SIGTERM stops the service gracefully
 * (stop taking work, drain, close in reverse order); a second one exits at once.
 */
export function handleSignals(stop: () => Promise<void>, log: Logger): void {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    count++;
    if (count > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
