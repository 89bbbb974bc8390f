/**
 * The scale-down window (POOL_SCALE_DOWN_WINDOW): the most addresses pods held or
 * waited for within the window, so the pool only shrinks below what that peak
 * needs and churn around a mean does not create and free ENIs.
 *
 * @module
 */

/** The largest demand seen within a sliding time window (a monotonic queue). */
export class ScaleDownWindow {
  readonly #windowMs: number;
  readonly #samples: { atMs: number; value: number }[] = [];

  /** A window of `windowMs`; 0 keeps no window. */
  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /**
   * Records the demand at `nowMs` (assigned + cooling + waiting addresses); returns the
   * window's peak and when it leaves the window, or null without a window.
   */
  note(nowMs: number, demand: number): { addresses: number; untilMs: number } | null {
    if (this.#windowMs <= 0) return null;
    const samples = this.#samples;
    while (samples.length > 0 && samples[samples.length - 1]!.value <= demand) samples.pop();
    samples.push({ atMs: nowMs, value: demand });
    while (samples[0]!.atMs + this.#windowMs <= nowMs) samples.shift();
    const peak = samples[0]!;
    return { addresses: peak.value, untilMs: peak.atMs + this.#windowMs };
  }
}
