/**
 * Finding complete checkpoints in a bucket without file events: polling by prefix, kept cheap
 * for a log directory of many runs.
 *
 *   - one delimiter listing of the runs per poll;
 *   - per run, a listing of `<run>/checkpoints/` that starts after the last checkpoint found
 *     complete, so a run with nothing new costs one request that returns (almost) nothing;
 *   - a run whose listing brought nothing new is listed less and less often (the poll interval
 *     doubled after each such poll, up to 16 ×); anything new lists it at every poll again.
 *
 * A checkpoint is complete once its manifest exists (storage/manifest.ts: it is written last).
 * The listing restarts at the first checkpoint not yet complete, so a manifest uploaded later is
 * still seen even though `manifest.json` sorts before the files it names.
 */
import { CHECKPOINTS_DIR } from '../../layout.ts';
import { checkpointDirName, parseCheckpointDirName } from '../../model/checkpoint/format.ts';
import { MANIFEST_NAME } from '../../storage/manifest.ts';
import type { BucketListing } from './bucket-listing.ts';

/** Quiet runs are listed at most this many poll intervals apart. */
const MAX_SLOWDOWN = 16;

interface RunProgress {
  /** The listing starts after this key: past every checkpoint up to the last complete one. */
  startAfter?: string;
  /** Complete steps already reported. */
  reported: Set<number>;
  quietPolls: number;
  nextPollAt: number;
}

export class CheckpointPolling {
  private readonly runs = new Map<string, RunProgress>();

  constructor(
    private readonly listing: BucketListing,
    private readonly pollMs: number,
    /** Only this run (`--run`). */
    private readonly only?: string,
  ) {}

  /** Runs and their checkpoints that became complete since the last poll (all of them on the first). */
  async poll(now = Date.now()): Promise<Map<string, number[]>> {
    const names = this.only !== undefined ? [this.only] : await this.listing.folders('');
    const found = new Map<string, number[]>();
    for (const run of names) {
      let progress = this.runs.get(run);
      if (!progress) {
        progress = { reported: new Set(), quietPolls: 0, nextPollAt: 0 };
        this.runs.set(run, progress);
      }
      if (now < progress.nextPollAt) continue;
      const steps = await this.pollRun(run, progress);
      if (steps.length > 0) found.set(run, steps);
      const slowdown = Math.min(2 ** progress.quietPolls, MAX_SLOWDOWN);
      progress.nextPollAt = now + this.pollMs * slowdown - this.pollMs / 2;
    }
    return found;
  }

  /** Lists the run's checkpoints again at the next poll, whatever its slowdown (a run just released). */
  wake(run: string): void {
    const progress = this.runs.get(run);
    if (progress) progress.nextPollAt = 0;
  }

  private async pollRun(run: string, progress: RunProgress): Promise<number[]> {
    const folder = `${run}/${CHECKPOINTS_DIR}/`;
    const keys = await this.listing.keys(folder, progress.startAfter);
    /** Each step seen, and whether its manifest was among its keys. */
    const steps = new Map<number, boolean>();
    for (const key of keys) {
      const [dirName, file] = key.slice(folder.length).split('/');
      const step = dirName === undefined ? undefined : parseCheckpointDirName(dirName);
      if (step === undefined || file === undefined) continue;
      steps.set(step, (steps.get(step) ?? false) || file === MANIFEST_NAME);
    }
    const fresh: number[] = [];
    let allCompleteSoFar = true;
    for (const [step, complete] of [...steps].sort((a, b) => a[0] - b[0])) {
      if (!complete) {
        allCompleteSoFar = false;
        continue;
      }
      // '~' sorts after '/': the key after every object of this checkpoint's folder.
      if (allCompleteSoFar) progress.startAfter = `${folder}${checkpointDirName(step)}~`;
      if (!progress.reported.has(step)) {
        progress.reported.add(step);
        fresh.push(step);
      }
    }
    // Files of a checkpoint still being uploaded count as activity: its manifest comes soon.
    progress.quietPolls = fresh.length > 0 || steps.size > 0 ? 0 : progress.quietPolls + 1;
    return fresh;
  }
}
