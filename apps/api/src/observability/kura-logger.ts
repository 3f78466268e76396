import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/**
 * Nest's console logger, with structured messages (`logger.warn({ requestId, … })`) on ONE line in the text
 * format too: `requestId=… problem=… reason="…"`, where Nest would print a multi-line `Object(3) {…}`. One event,
 * one line, whichever the format, so that grep and log shippers see whole events. The JSON format is Nest's.
 */
export class KuraLogger extends ConsoleLogger {
  protected override stringifyMessage(message: unknown, logLevel: LogLevel): string {
    if (typeof message !== 'object' || message === null || Array.isArray(message) || message instanceof Error) {
      return super.stringifyMessage(message, logLevel);
    }
    const fields = Object.entries(message).map(([key, value]) => `${key}=${fieldText(value)}`);
    return this.colorize(fields.join(' '), logLevel);
  }
}

/** A value as it reads in a `key=value` line: bare when it is one plain word, else JSON (quoted, newlines escaped). */
function fieldText(value: unknown): string {
  if (typeof value === 'string' && /^[\w.:/@+-]+$/.test(value)) return value;
  return JSON.stringify(value) ?? String(value);
}
