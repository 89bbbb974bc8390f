/**
 * A one-line progress bar for long replays, redrawn in place on stderr.
 *
 * @module
 */

/** Draws progress through `write`; `done()` ends the line. */
export interface ProgressBar {
  update(fraction: number): void;
  done(): void;
}

const WIDTH = 30;

/** A bar labelled `label`, redrawn when the percentage moves, at most every 100 ms of `nowMs`. */
export function progressBar(
  write: (text: string) => void,
  label: string,
  nowMs: () => number = Date.now,
): ProgressBar {
  let shown = -1;
  let drawn = false;
  let lastMs = -Infinity;
  return {
    update(fraction) {
      const percent = Math.floor(Math.min(Math.max(fraction, 0), 1) * 100);
      if (percent === shown || (percent < 100 && nowMs() - lastMs < 100)) return;
      shown = percent;
      lastMs = nowMs();
      drawn = true;
      const cells = Math.round((percent / 100) * WIDTH);
      write(`\r${label} [${"#".repeat(cells)}${"-".repeat(WIDTH - cells)}] ${String(percent).padStart(3)}%`);
    },
    done() {
      if (drawn) write("\n");
      drawn = false;
    },
  };
}
