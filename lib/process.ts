import type { Server } from 'node:net';
import type { Logger } from './logger.ts';

/**
 * Runs `shutdown` once on SIGINT/SIGTERM, then exits. A second signal, or a shutdown
 * that hangs past the grace period, exits at once so an operator is never stuck.
 */
export function handleShutdown(logger: Logger, shutdown: () => Promise<void>, graceMs = 15_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    shutdown().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Turns "port already taken" into one line naming the service and the variable to change. */
export function explainListenErrors(server: Server, logger: Logger, what: string, envVar: string): void {
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
      const reason = err.code === 'EADDRINUSE' ? 'is already in use by another program' : 'cannot be opened';
      logger.fatal({ code: err.code }, `${what}: port ${reason}; stop that program or set ${envVar}`);
      process.stderr.write(`${what}: port ${reason}; stop that program or set ${envVar}.\n`);
      process.exit(1);
    }
    throw err;
  });
}
