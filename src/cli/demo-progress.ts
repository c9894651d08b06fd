/**
 * What `demo` waits on once training has ended: the run's last complete checkpoint, and the
 * watcher's record (`state.json`) reaching it. Both are read through the storage interface, so
 * the same waiting serves a local log directory and `s3://bucket/prefix`. Only the record's
 * committed version is ever read: the watcher replaces it whole (a rename, or one PUT).
 */
import { UserError } from '../errors.ts';
import { CHECKPOINTS_DIR } from '../layout.ts';
import { listStoredCheckpoints } from '../model/checkpoint/stored.ts';
import { isObjectNotFound, joinKey, type Storage } from '../storage/storage.ts';

/** The part of the watcher's record the demo reports. */
export interface WatcherRecord {
  frames: { step: number; frameSeconds: number }[];
  skipped: { step: number }[];
}

/** The steps of the run's complete checkpoints (those a watcher may read), oldest first. */
export async function completeCheckpointSteps(storage: Storage, run: string): Promise<number[]> {
  const { complete } = await listStoredCheckpoints(storage, joinKey(run, CHECKPOINTS_DIR));
  return complete.map((checkpoint) => checkpoint.step);
}

function isStepList(value: unknown): value is { step: number }[] {
  return Array.isArray(value) && value.every((entry) => Number.isInteger((entry as { step?: unknown })?.step));
}

/** The watcher's record at `key`, or null while there is none yet. */
export async function readWatcherRecord(storage: Storage, key: string): Promise<WatcherRecord | null> {
  let data: Buffer;
  try {
    data = await storage.read(key);
  } catch (error) {
    if (isObjectNotFound(error)) return null;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString());
  } catch {
    parsed = undefined;
  }
  const record = parsed as Partial<WatcherRecord> | undefined;
  if (!record || !isStepList(record.frames) || !isStepList(record.skipped)) {
    throw new UserError(`${storage.location(key)} is not a watcher's record (state.json); use another --run`);
  }
  return record as WatcherRecord;
}

/** The highest step the watcher drew or skipped (-1 for none). */
export function lastHandled(record: WatcherRecord): number {
  return Math.max(-1, ...record.frames.map((frame) => frame.step), ...record.skipped.map((skip) => skip.step));
}

export interface WaitHooks {
  /** Why to stop waiting ('interrupted', 'watcher exited'), or undefined to go on. */
  stop(): string | undefined;
  pollMs?: number;
}

/**
 * Polls the record at `stateKey` until it has handled `lastStep`; returns the record, or the
 * reason `hooks.stop` gave for giving up.
 */
export async function waitForWatcher(
  storage: Storage,
  stateKey: string,
  lastStep: number,
  hooks: WaitHooks,
): Promise<{ record: WatcherRecord } | { stopped: string }> {
  for (;;) {
    const record = await readWatcherRecord(storage, stateKey);
    if (record !== null && lastHandled(record) >= lastStep) return { record };
    const stopped = hooks.stop();
    if (stopped !== undefined) return { stopped };
    await new Promise((resolve) => setTimeout(resolve, hooks.pollMs ?? 500));
  }
}
