/**
 * Getting a run on object storage ready for the training loop, which works on a local folder:
 * the run's name (`--resume` without `--run`: the run whose newest complete checkpoint is
 * newest), the checks a local run has (a fresh run has no checkpoints, a resumed one has one),
 * and a local working folder holding the checkpoint to resume from, downloaded with its sums
 * checked.
 *
 * The bucket is the truth. A checkpoint folder without its manifest is an upload that was cut
 * off (a trainer killed mid-upload): nobody reads it, and it is deleted here, so a later
 * checkpoint of the same step starts from an empty folder.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';
import { CHECKPOINTS_DIR } from '../layout.ts';
import { parseCheckpointDirName } from '../model/checkpoint/format.ts';
import { deleteStoredCheckpoint, downloadCheckpoint, listStoredCheckpoints } from '../model/checkpoint/stored.ts';
import { MANIFEST_NAME } from '../storage/manifest.ts';
import { joinKey, type Storage } from '../storage/storage.ts';
import { makeDirectory } from '../util/directory.ts';

/** Marks a folder as a working folder of `train` for object storage (its checkpoints are copies). */
export const WORK_DIR_MARK = '.embedding-timelapse-work-dir';

const NEWEST_MANIFEST = new RegExp(`^([^/]+)/${CHECKPOINTS_DIR}/step-\\d{9}/${MANIFEST_NAME.replace('.', '\\.')}$`);

/** The run under the storage's root whose newest complete checkpoint was completed last, or undefined. */
export async function newestStoredRun(storage: Storage): Promise<string | undefined> {
  let best: { run: string; time: number } | undefined;
  for (const info of await storage.list('')) {
    const run = NEWEST_MANIFEST.exec(info.key)?.[1];
    if (run === undefined || run.startsWith('.')) continue;
    const time = info.modified.getTime();
    if (!best || time > best.time) best = { run, time };
  }
  return best?.run;
}

export interface BucketRunOptions {
  run: string;
  resume: boolean;
  /** The working folder (kept); default a temporary one, removed by `dispose`. */
  workDir?: string;
  log: (line: string) => void;
}

export interface BucketRun {
  /** The local log directory the training loop works in: `<work>/<run>/checkpoints/…`. */
  workLogdir: string;
  /** The checkpoint downloaded to resume from, in the working folder. */
  resumeFrom?: string;
  /** Removes a temporary working folder. */
  dispose(): Promise<void>;
}

/** A working folder given by the user: ours (marked), or one without checkpoints of this run. */
async function prepareGivenWorkDir(workDir: string, run: string): Promise<void> {
  await makeDirectory(workDir, 'create the working folder');
  const local = join(workDir, run, CHECKPOINTS_DIR);
  const names = await readdir(local).catch(() => [] as string[]);
  const steps = names.filter((name) => parseCheckpointDirName(name) !== undefined);
  if (steps.length > 0 && !existsSync(join(workDir, WORK_DIR_MARK))) {
    throw new UserError(
      `--work-dir ${workDir}: ${local} holds checkpoints that 'train' did not put there as copies; ` +
        'choose an empty folder for --work-dir',
    );
  }
  // Copies of an earlier process: what is in the bucket counts, and the resume point is fetched again.
  for (const name of steps) await rm(join(local, name), { recursive: true, force: true });
  try {
    await writeFile(join(workDir, WORK_DIR_MARK), 'working folder of embedding-timelapse train for s3://\n');
  } catch (error) {
    throw new UserError(describeFsError(error, 'write to the working folder', workDir));
  }
}

async function createWorkDir(options: BucketRunOptions): Promise<{ dir: string; dispose: () => Promise<void> }> {
  if (options.workDir !== undefined) {
    const dir = resolve(options.workDir);
    await prepareGivenWorkDir(dir, options.run);
    return { dir, dispose: async () => undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'embedding-timelapse-train-'));
  // A second Ctrl-C exits at once, past any `finally`: the folder goes then too.
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', onExit);
  return {
    dir,
    dispose: async () => {
      process.off('exit', onExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Checks the run in the bucket against `--resume`, deletes cut-off uploads, and makes the local
 * working folder (with the checkpoint to resume from).
 */
export async function prepareBucketRun(storage: Storage, options: BucketRunOptions): Promise<BucketRun> {
  const { run, resume, log } = options;
  const checkpointsKey = joinKey(run, CHECKPOINTS_DIR);
  const where = storage.location(checkpointsKey);
  const { complete, incomplete } = await listStoredCheckpoints(storage, checkpointsKey);
  if (!resume && complete.length > 0) {
    throw new UserError(
      `run '${run}' in ${storage.root} already has ${complete.length} checkpoint(s); ` +
        `pass --resume to continue it, or choose another --run`,
    );
  }
  const latest = complete.at(-1);
  if (resume && latest === undefined) {
    const cut = incomplete.length > 0 ? ` (${incomplete.length} upload(s) without ${MANIFEST_NAME}, cut off)` : '';
    throw new UserError(
      `--resume: no complete checkpoint in ${where}${cut}; check --logdir and --run, or start without --resume`,
    );
  }
  for (const partial of incomplete) {
    log(`deleting ${storage.location(partial.folder)}: an upload cut off before its ${MANIFEST_NAME}`);
    await deleteStoredCheckpoint(storage, partial);
  }
  const work = await createWorkDir(options);
  try {
    if (latest === undefined) return { workLogdir: work.dir, dispose: work.dispose };
    const local = join(work.dir, run, CHECKPOINTS_DIR, latest.folder.slice(checkpointsKey.length + 1));
    await downloadCheckpoint(storage, latest.folder, local);
    return { workLogdir: work.dir, resumeFrom: local, dispose: work.dispose };
  } catch (error) {
    await work.dispose();
    throw error;
  }
}
