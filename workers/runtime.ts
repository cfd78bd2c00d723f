import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import type { Logger } from '../lib/logger.ts';

/** Sends the SDK's logs (with workflowId, activityType … in their metadata) through pino. */
class PinoTemporalLogger implements TemporalLogger {
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }
  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const method = level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    this.logger[method](meta ?? {}, message);
  }
  trace(message: string, meta?: LogMetadata) { this.log('TRACE', message, meta); }
  debug(message: string, meta?: LogMetadata) { this.log('DEBUG', message, meta); }
  info(message: string, meta?: LogMetadata) { this.log('INFO', message, meta); }
  warn(message: string, meta?: LogMetadata) { this.log('WARN', message, meta); }
  error(message: string, meta?: LogMetadata) { this.log('ERROR', message, meta); }
}

let installed = false;

/**
 * Runtime.install may run once per process, before any worker or native connection is
 * created. `metricsPort` 0 turns the Prometheus exporter off (tests run many workers).
 */
export function installRuntime(logger: Logger, options: { metricsHost: string; metricsPort: number }): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new PinoTemporalLogger(logger),
    // The process's own handler (lib/process.ts) shuts the workers down: the SDK's would
    // take a signal that arrives before the workers exist and leave them running.
    shutdownSignals: [],
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      ...(options.metricsPort
        ? { metrics: { prometheus: { bindAddress: `${options.metricsHost}:${options.metricsPort}` } } }
        : {}),
    },
  });
}
