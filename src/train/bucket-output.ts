/**
 * A training run on object storage (`--logdir s3://bucket/prefix`): the summaries go to the
 * bucket as rolled event files (a new whole object per flush; docs/object-storage.md), and each
 * checkpoint, once saved in the local working folder, is uploaded to
 * `<run>/checkpoints/step-N/` file by file with its manifest last. The run's events written so
 * far are uploaded before each checkpoint's manifest, so the run's own files (the options text
 * at its first step) are in the bucket before its first complete checkpoint.
 *
 * Only the newest checkpoint is kept in the working folder: it is what a crash-free resume of
 * this process would need, and older ones would fill the local disk for nothing.
 */
import { basename } from 'node:path';
import { rm } from 'node:fs/promises';
import { CHECKPOINTS_DIR } from '../layout.ts';
import { uploadCheckpoint } from '../model/checkpoint/stored.ts';
import { joinKey, type Storage } from '../storage/storage.ts';
import { SummaryWriter } from '../tensorboard/summary-writer.ts';
import { UploadedEvents } from '../tensorboard/uploaded-events.ts';
import { lastStepsByTagInStorage } from '../tensorboard/summarize-storage.ts';
import type { RunOutput } from './run-output.ts';

export interface CheckpointUpload {
  location: string;
  bytes: number;
  seconds: number;
}

export interface BucketRunOutputOptions {
  /** Where the one line per uploaded checkpoint goes (default: nowhere). */
  log?: (line: string) => void;
  /** Shortest time between two event files of the run's points (default 30 s). */
  flushSeconds?: number;
}

export class BucketRunOutput implements RunOutput {
  readonly runLocation: string;
  readonly checkpointsLocation: string;
  readonly writer: SummaryWriter<UploadedEvents>;
  /** What each checkpoint upload cost, oldest first. */
  readonly uploads: CheckpointUpload[] = [];
  private previousLocal: string | undefined;

  constructor(
    readonly storage: Storage,
    readonly run: string,
    private readonly options: BucketRunOutputOptions = {},
  ) {
    this.runLocation = storage.location(run);
    this.checkpointsLocation = storage.location(joinKey(run, CHECKPOINTS_DIR));
    this.writer = new SummaryWriter(new UploadedEvents(storage, run, { flushSeconds: options.flushSeconds }));
  }

  writtenSteps(): Promise<Map<string, number>> {
    return lastStepsByTagInStorage(this.storage, this.run);
  }

  openWriter(): SummaryWriter<UploadedEvents> {
    return this.writer;
  }

  locationOf(localDir: string): string {
    return this.storage.location(this.folderOf(localDir));
  }

  /** The key in the bucket of the checkpoint saved locally in `localDir`. */
  private folderOf(localDir: string): string {
    return joinKey(this.run, CHECKPOINTS_DIR, basename(localDir));
  }

  async publish(localDir: string): Promise<string> {
    await this.writer.events.flushNow();
    const folder = this.folderOf(localDir);
    const started = performance.now();
    let bytes: number;
    try {
      bytes = await uploadCheckpoint(localDir, this.storage, folder);
    } catch (error) {
      this.writer.events.abandon(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    const upload = {
      location: this.storage.location(folder),
      bytes,
      seconds: (performance.now() - started) / 1000,
    };
    this.uploads.push(upload);
    this.options.log?.(
      `uploaded ${upload.location} (${(bytes / 1e6).toFixed(1)} MB in ${upload.seconds.toFixed(1)} s)`,
    );
    if (this.previousLocal !== undefined && this.previousLocal !== localDir) {
      await rm(this.previousLocal, { recursive: true, force: true });
    }
    this.previousLocal = localDir;
    return upload.location;
  }
}
