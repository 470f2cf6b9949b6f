import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * createLogger returns the structured (JSON, snake_case fields) logger of one component. Fields
 * that could carry secrets are redacted whatever the caller passes; keys are never logged.
 */
export function createLogger(component: string, level: string = process.env.VIGIL_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { component },
    redact: { paths: ['*.password', '*.secret', '*.private_key', '*.token', '*.authorization'], censor: '[redacted]' },
  });
}

/** silentLogger is a logger that drops everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
