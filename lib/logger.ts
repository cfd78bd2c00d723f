import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; every line carries the service name, and callers add request or workflow ids. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.secret', '*.streamKey', '*.token'],
      censor: '[redacted]',
    },
  });
}
