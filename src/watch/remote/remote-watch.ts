/**
 * `watch --logdir s3://bucket/prefix`: the watcher (daemon.ts) drawing a local working copy of
 * the bucket's runs, synced at the edges (run-copy.ts), one run at a time per lease:
 *
 *   - discovery polls the bucket (checkpoint-polling.ts): object storage sends no file events;
 *   - a run with a complete checkpoint not drawn yet is claimed with a lease (storage/lease.ts:
 *     one watcher draws a run, another waits and takes over when its lease expires), its outputs
 *     are downloaded, then its new checkpoints are pulled into the working copy;
 *   - after each frame's commit (the daemon's `onWritten` at 'state') and page, what changed is
 *     uploaded, state.json last but for the page;
 *   - a run with nothing to do for `releaseIdleMs` is pushed and its lease released: a log
 *     directory of many finished runs costs listings, not renewals.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TransientError, UserError, isTransientError, isUserError } from '../../errors.ts';
import { LOCK_FILE } from '../../layout.ts';
import { Lease } from '../../storage/lease.ts';
import { pathExists } from '../../util/exists.ts';
import { S3Storage, parseS3Url, type S3StorageOptions } from '../../storage/s3.ts';
import { Watcher, type WatchSummary, type WatcherOptions } from '../daemon.ts';
import { lastHandledStep } from '../record.ts';
import { BucketListing } from './bucket-listing.ts';
import { CheckpointPolling } from './checkpoint-polling.ts';
import { RunCopy } from './run-copy.ts';

export interface RemoteWatchOptions {
  /** `s3://bucket/prefix` */
  logdir: string;
  /** The working copy (default: a temporary folder, removed at the end). */
  workDir?: string;
  /** A lease's time to live (default 30 s). */
  leaseTtlMs?: number;
  /** How long a run with nothing to do keeps its lease (default 120 s). */
  releaseIdleMs?: number;
  /** The daemon's options; its `logdir` is the working copy. */
  watcher: Omit<WatcherOptions, 'logdir'>;
  /** After each upload (tests kill the watcher between two uploads). */
  onUploaded?: (key: string) => void | Promise<void>;
  /** Retries, endpoint or client for the storage (tests). */
  storage?: S3StorageOptions;
}

interface RemoteRun {
  copy: RunCopy;
  lease?: Lease;
  claiming?: Promise<void>;
  /** The working copy must be replaced by the bucket's before anything is pulled. */
  stale: boolean;
  /** Complete checkpoints found in the bucket and not pulled yet. */
  wanted: Set<number>;
  /** Checkpoints whose download failed its sums, with the reason: the chain records them as skips. */
  refused: Map<number, string>;
  drawing: boolean;
  busyAt: number;
  /** The last line said about a failed claim. */
  claimError?: string;
}

const NONE_REFUSED: ReadonlyMap<number, string> = new Map();

/** Lists the log directory once: a missing bucket or wrong credentials are one line before anything loads. */
export async function checkRemoteLogdir(logdir: string, storage: S3StorageOptions = {}): Promise<void> {
  await new BucketListing(new S3Storage(parseS3Url(logdir), storage), storage).folders('');
}

export class RemoteWatch {
  private readonly runs = new Map<string, RemoteRun>();
  private readonly transfers: S3Storage;
  private readonly leaseStore: S3Storage;
  private readonly listing: BucketListing;
  private readonly polling: CheckpointPolling;
  private readonly stopController = new AbortController();
  private watcher: Watcher | null = null;
  private failedRuns = new Set<string>();
  private workDir = '';

  constructor(private readonly options: RemoteWatchOptions) {
    const location = parseS3Url(options.logdir);
    const notify = (line: string) => options.watcher.reporter.error(line);
    this.transfers = new S3Storage(location, { notify, ...options.storage });
    this.leaseStore = new S3Storage(location, { notify, ...options.storage });
    this.listing = new BucketListing(this.transfers, { notify, ...options.storage });
    this.polling = new CheckpointPolling(this.listing, 1000 * this.pollSeconds(), options.watcher.run);
  }

  private pollSeconds(): number {
    return this.options.watcher.pollSeconds ?? 10;
  }

  /** Requests sent so far, by purpose. */
  requests(): { listing: number; leases: number; transfers: number } {
    return { listing: this.listing.requests, leases: this.leaseStore.requests, transfers: this.transfers.requests };
  }

  stop(): void {
    this.stopController.abort(new Error('stopped'));
    this.watcher?.stop();
  }

  async run(): Promise<WatchSummary> {
    const { reporter, once, verbose } = this.options.watcher;
    const temporary = this.options.workDir === undefined;
    this.workDir = temporary
      ? await mkdtemp(join(tmpdir(), 'embedding-timelapse-watch-'))
      : resolve(this.options.workDir!);
    await mkdir(this.workDir, { recursive: true });
    let rate: NodeJS.Timeout | undefined;
    try {
      // A missing bucket or wrong credentials: one line now, not after the first checkpoint.
      const runs = await this.listing.folders('');
      await this.checkRunExists(runs);
      if (verbose) rate = this.reportRequestRate();
      this.watcher = new Watcher({
        ...this.options.watcher,
        logdir: this.workDir,
        shownLogdir: this.options.logdir,
        refusedCheckpoints: (name) => this.runs.get(name)?.refused ?? NONE_REFUSED,
        ...this.hooks(),
      });
      if (this.stopController.signal.aborted) this.watcher.stop();
      let summary: WatchSummary;
      if (once) {
        await this.sync(true);
        summary = await this.watcher.run();
      } else {
        reporter.info(`working copy ${this.workDir}; polling ${this.options.logdir} every ${this.pollSeconds()} s`);
        // A bug in the poll loop stops the watcher, and is thrown once it has stopped.
        let failure: { error: unknown } | undefined;
        const syncing = this.syncLoop().catch((error: unknown) => {
          failure = { error };
          this.watcher?.stop();
        });
        try {
          summary = await this.watcher.run();
        } finally {
          this.stopController.abort(new Error('stopped'));
          await syncing;
        }
        if (failure) throw failure.error;
      }
      await this.finish();
      return {
        frames: summary.frames,
        skipped: summary.skipped,
        failedRuns: [...new Set([...summary.failedRuns, ...this.failedRuns])].sort(),
      };
    } finally {
      if (rate) clearInterval(rate);
      for (const run of this.runs.values()) run.lease?.abandon();
      if (temporary) await rm(this.workDir, { recursive: true, force: true });
    }
  }

  /**
   * `--once --run NAME`: a run the bucket does not have is a mistake; one it has (even with
   * nothing left to draw) is given its folder in the working copy, where the daemon looks for it.
   */
  private async checkRunExists(runs: string[]): Promise<void> {
    const { run, once } = this.options.watcher;
    if (run === undefined || !once) return;
    if (!runs.includes(run)) {
      const known = runs.length === 0 ? 'it has no runs' : `runs: ${runs.join(', ')}`;
      throw new UserError(`no run '${run}' in ${this.options.logdir} (${known}); check --run and --logdir`);
    }
    await mkdir(join(this.workDir, run), { recursive: true });
  }

  /** Pushes and releases every run held; the last uploads of a stopping watcher. */
  private async finish(): Promise<void> {
    for (const run of this.runs.values()) {
      if (!run.lease) continue;
      await this.push(run);
      await run.lease.release();
      run.lease = undefined;
    }
  }

  private reportRequestRate(): NodeJS.Timeout {
    let last = this.requests();
    const timer = setInterval(() => {
      const now = this.requests();
      const listing = now.listing - last.listing;
      const leases = now.leases - last.leases;
      const transfers = now.transfers - last.transfers;
      last = now;
      this.options.watcher.reporter.info(
        `s3: ${listing + leases + transfers} requests in the last minute ` +
          `(discovery ${listing}, leases ${leases}, transfers ${transfers})`,
        { requestsPerMinute: listing + leases + transfers, listing, leases, transfers },
      );
    }, 60_000);
    timer.unref();
    return timer;
  }

  /** The daemon's hooks: a frame in progress is not pushed from the poll; after commit and page it is. */
  private hooks(): Pick<WatcherOptions, 'onStage' | 'onWritten'> {
    const { onStage, onWritten } = this.options.watcher;
    return {
      onStage: async (name, step, stage) => {
        const run = this.runs.get(name);
        if (run) {
          run.drawing = true;
          run.busyAt = Date.now();
        }
        await onStage?.(name, step, stage);
      },
      onWritten: async (name, step, what) => {
        await onWritten?.(name, step, what);
        const run = this.runs.get(name);
        if (!run || (what !== 'state' && what !== 'page')) return;
        await this.push(run);
        if (what === 'page') {
          run.drawing = false;
          run.busyAt = Date.now();
          await run.copy.dropCheckpointsUpTo(step);
        }
      },
    };
  }

  private push(run: RemoteRun): Promise<number> {
    return run.copy.push({
      checkWritable: () => {
        if (!run.lease || run.lease.lost) {
          throw new UserError(
            `cannot upload run '${run.copy.run}' to ${this.options.logdir}: this watcher no longer holds its lease; ` +
              'another watcher draws it now',
          );
        }
      },
      uploaded: this.options.onUploaded,
    });
  }

  private async syncLoop(): Promise<void> {
    const signal = this.stopController.signal;
    while (!signal.aborted) {
      try {
        await this.sync(false);
      } catch (error) {
        // A store that is away or refuses now is said once per poll; the daemon keeps drawing what it has.
        if (!isUserError(error) && !isTransientError(error)) throw error;
        this.options.watcher.reporter.error(`${error.message}; trying again in ${this.pollSeconds()} s`);
      }
      await new Promise<void>((done) => {
        const wake = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', wake);
          done();
        };
        const timer = setTimeout(wake, 1000 * this.pollSeconds());
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** One poll: new checkpoints found, runs claimed, checkpoints pulled, idle runs pushed and released. */
  private async sync(waitForLeases: boolean): Promise<void> {
    for (const [name, steps] of await this.polling.poll()) {
      const run = this.runOf(name);
      // Steps the bucket's record has drawn already do not make a run worth claiming.
      const drawn = run.lease ? -1 : await run.copy.lastStepInBucket();
      for (const step of steps) if (step > drawn) run.wanted.add(step);
    }
    for (const run of this.runs.values()) {
      if (run.wanted.size > 0 && !run.lease) {
        run.claiming ??= this.claim(run).finally(() => (run.claiming = undefined));
        if (waitForLeases) await run.claiming;
      }
      if (run.lease && !run.lease.lost) await this.bringUp(run);
    }
    if (!waitForLeases) await this.releaseIdle();
  }

  private runOf(name: string): RemoteRun {
    let run = this.runs.get(name);
    if (!run) {
      run = {
        copy: new RunCopy(this.transfers, this.workDir, name),
        stale: true,
        wanted: new Set(),
        refused: new Map(),
        drawing: false,
        busyAt: 0,
      };
      this.runs.set(name, run);
    }
    return run;
  }

  private async claim(run: RemoteRun): Promise<void> {
    const { reporter } = this.options.watcher;
    try {
      const lease = await Lease.acquire(this.leaseStore, run.copy.leaseKey, {
        ttlMs: this.options.leaseTtlMs,
        notify: (line) => reporter.info(line),
        signal: this.stopController.signal,
      });
      run.lease = lease;
      run.stale = true;
      run.busyAt = Date.now();
      lease.signal.addEventListener('abort', () => void this.lost(run, lease), { once: true });
    } catch (error) {
      if (this.stopController.signal.aborted) return;
      if (!isUserError(error) && !isTransientError(error)) throw error;
      const line = `cannot claim run '${run.copy.run}': ${error.message}`;
      // A live watcher tries again at every poll; it says so again only when the reason changes.
      if (run.claimError !== line) reporter.error(line);
      run.claimError = line;
      this.failedRuns.add(run.copy.run);
    }
  }

  /** Another watcher draws the run now: nothing of it is left to draw here. */
  private async lost(run: RemoteRun, lease: Lease): Promise<void> {
    if (run.lease !== lease || this.stopController.signal.aborted) return;
    run.lease = undefined;
    run.stale = true;
    await run.copy.dropCheckpointsUpTo(Infinity);
  }

  /**
   * A held run: its working copy replaced by the bucket's (once the daemon has closed its chain),
   * then its new checkpoints pulled.
   */
  private async bringUp(run: RemoteRun): Promise<void> {
    if (run.stale) {
      if (await pathExists(join(run.copy.chainDir, LOCK_FILE))) return;
      await run.copy.download();
      run.stale = false;
    }
    const record = await run.copy.localState();
    const last = record ? lastHandledStep(record) : -1;
    for (const step of [...run.wanted].sort((a, b) => a - b)) {
      if (step <= last) {
        run.wanted.delete(step);
        continue;
      }
      try {
        await run.copy.pullCheckpoint(step);
        run.wanted.delete(step);
        run.busyAt = Date.now();
      } catch (error) {
        // Frames go in step order: the later checkpoints wait for this one until the next poll.
        if (error instanceof TransientError) break;
        if (!isUserError(error)) throw error;
        // A damaged checkpoint (a sum that does not match): never drawn, and recorded as a skip in
        // its turn, so that state.json (uploaded with it) says why and no later watcher tries again.
        run.wanted.delete(step);
        run.refused.set(step, error.message);
        await run.copy.ensureCheckpointsFolder();
        run.busyAt = Date.now();
      }
    }
    this.watcher?.poke();
  }

  private async releaseIdle(): Promise<void> {
    const idleMs = this.options.releaseIdleMs ?? 120_000;
    for (const run of this.runs.values()) {
      if (!run.lease || run.drawing || run.stale || run.wanted.size > 0) continue;
      await this.push(run);
      if (Date.now() - run.busyAt < idleMs) continue;
      const record = await run.copy.localState();
      const pulled = await run.copy.hasCheckpointsAfter(record ? lastHandledStep(record) : -1);
      if (pulled) continue;
      await run.lease.release();
      run.lease = undefined;
    }
  }
}
