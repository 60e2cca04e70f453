import { pino, type Logger } from 'pino';

/** Structured JSON logs on stderr, so stdout stays free for the one "listening" line. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'baton' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
