/**
 * Runs one session's negotiation steps strictly one after another (client descriptions, server
 * offers, consumer changes), so that no two of them interleave across an `await`. A failing step
 * rejects only its own caller; the queue goes on with the next one.
 */
export class NegotiationQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private length = 0;

  /** Steps waiting or running. */
  get size(): number {
    return this.length;
  }

  /**
   * Runs `step` after every step queued before it.
   * @returns the step's result; rejects with its error
   */
  run<T>(step: () => Promise<T> | T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('negotiation queue closed'));
    this.length++;
    const result = this.tail.then(
      () => step(),
      () => step(),
    );
    this.tail = result.then(
      () => this.length--,
      () => this.length--,
    );
    return result;
  }

  /** Refuses further steps (queued ones still run and should check their owner's state). */
  close(): void {
    this.closed = true;
  }
}
