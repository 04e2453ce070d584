import { ConsoleLogger } from '@nestjs/common';

/** One recorded log line: its level, context and message. */
export interface RecordedLog {
  readonly level: 'error' | 'warn';
  readonly context: string;
  readonly message: string;
}

/**
 * The host app's logger in tests that assert "no internal error was logged": prints errors and
 * warnings as Nest's console logger does, and keeps them.
 */
export class LogRecorder extends ConsoleLogger {
  readonly lines: RecordedLog[] = [];

  constructor() {
    super();
    this.setLogLevels(['error', 'warn']);
  }

  override error(message: unknown, ...rest: unknown[]): void {
    this.record('error', message, rest);
    super.error(message, ...rest);
  }

  override warn(message: unknown, ...rest: unknown[]): void {
    this.record('warn', message, rest);
    super.warn(message, ...rest);
  }

  /** Lines of one level, as `[context] message`. */
  of(level: RecordedLog['level']): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => `[${l.context}] ${l.message}`);
  }

  private record(level: RecordedLog['level'], message: unknown, rest: unknown[]): void {
    // Nest passes the context last (after a stack trace for errors).
    const context = typeof rest.at(-1) === 'string' ? String(rest.at(-1)) : '';
    const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
    this.lines.push({ level, context, message: text });
  }
}
