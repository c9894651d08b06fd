/**
 * The progress line on stderr: epoch, samples, running loss and accuracy, img/s and ETA.
 * On a terminal it redraws one line; otherwise (CI, a log file) it prints a line now and then
 * so logs stay short.
 */
export interface ProgressState {
  epoch: number;
  epochs: number;
  samplesInEpoch: number;
  epochSize: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  /** Training samples still to go in the whole run. */
  remainingSamples: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function formatProgress(state: ProgressState, width = 24): string {
  const fraction = state.epochSize > 0 ? Math.min(1, state.samplesInEpoch / state.epochSize) : 0;
  const filled = Math.round(fraction * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const eta = state.imagesPerSecond > 0 ? state.remainingSamples / state.imagesPerSecond : Infinity;
  return (
    `epoch ${state.epoch + 1}/${state.epochs} [${bar}] ${state.samplesInEpoch}/${state.epochSize}` +
    ` loss ${state.loss.toFixed(4)} acc ${state.accuracy.toFixed(3)}` +
    ` ${state.imagesPerSecond.toFixed(1)} img/s ETA ${formatDuration(eta)}`
  );
}

export class ProgressBar {
  private lastPlainLine = -Infinity;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** Seconds between lines when the stream is not a terminal. */
    private readonly plainEvery = 30,
  ) {}

  update(state: ProgressState): void {
    const line = formatProgress(state);
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\x1b[K`);
      this.drawn = true;
      return;
    }
    const now = performance.now() / 1000;
    if (now - this.lastPlainLine >= this.plainEvery) {
      this.lastPlainLine = now;
      this.stream.write(`${line}\n`);
    }
  }

  /** Prints a message on its own line, keeping the bar below it. */
  log(message: string): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.stream.write(`${message}\n`);
    this.drawn = false;
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}
