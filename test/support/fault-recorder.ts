import { runInThisContext } from 'node:vm';

/** One unhandled rejection or uncaught exception seen by the process. */
export interface ProcessFault {
  readonly kind: 'unhandledRejection' | 'uncaughtException';
  readonly error: unknown;
}

/**
 * Records unhandled rejections and uncaught exceptions of the real Node process (the host app
 * runs in the test process, so a server-side crash shows up here). Jest gives test files a copy
 * of `process` whose listeners never fire; the recorder listens on the real one.
 */
export class FaultRecorder {
  readonly faults: ProcessFault[] = [];
  private readonly process = runInThisContext('process') as NodeJS.Process;
  private readonly onRejection = (error: unknown): void => {
    this.faults.push({ kind: 'unhandledRejection', error });
  };
  private readonly onException = (error: unknown): void => {
    this.faults.push({ kind: 'uncaughtException', error });
  };

  private constructor() {
    this.process.on('unhandledRejection', this.onRejection);
    this.process.on('uncaughtException', this.onException);
  }

  /** Starts recording (call `uninstall` in `afterAll`). */
  static install(): FaultRecorder {
    return new FaultRecorder();
  }

  /** The faults as short lines, for assertion messages. */
  describe(): string[] {
    return this.faults.map(
      (f) =>
        `${f.kind}: ${f.error instanceof Error ? (f.error.stack ?? f.error.message) : String(f.error)}`,
    );
  }

  uninstall(): void {
    this.process.off('unhandledRejection', this.onRejection);
    this.process.off('uncaughtException', this.onException);
  }
}
