import { STAGES, type Stage, type StageSeconds } from './report.ts';

/** Wall-clock seconds per pipeline stage of one frame. */
export class StageTimer {
  private readonly seconds = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  private readonly started = performance.now();

  async time<T>(stage: Stage, work: () => Promise<T> | T): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.seconds[stage] += (performance.now() - start) / 1000;
    }
  }

  /** Seconds since the timer was made. */
  elapsed(): number {
    return (performance.now() - this.started) / 1000;
  }

  result(): StageSeconds {
    return { ...this.seconds, total: this.elapsed() };
  }
}
