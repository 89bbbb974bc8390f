/**
 * The one error a failed start ends with: ipamd refuses to start (a live ipamd on
 * the socket, a corrupt checkpoint, a cloud that says no, …) with a one-line
 * message, the step it was taking, and the failure as its cause.
 *
 * @module
 */

/** ipamd could not start. */
export class StartupError extends Error {
  override readonly name = "StartupError";
  /** What ipamd was doing, e.g. "restore the checkpoint". */
  readonly step: string;

  constructor(step: string, cause: unknown) {
    const text = cause instanceof Error ? cause.message : String(cause);
    super(text.split("\n", 1)[0]!.trim() || `Cannot ${step}`, { cause });
    this.step = step;
  }

  /** `error` as a StartupError: itself, or wrapped as the failure of `step`. */
  static of(error: unknown, step = "start"): StartupError {
    return error instanceof StartupError ? error : new StartupError(step, error);
  }

  /** Runs one start step; its failure becomes a StartupError naming the step. */
  static async step<T>(step: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw StartupError.of(error, step);
    }
  }
}
