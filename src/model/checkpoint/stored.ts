/**
 * Checkpoints behind the storage interface (a bucket prefix, or a local folder through it).
 *
 * On object storage a checkpoint folder is complete once its `manifest.json` exists (written
 * last by `writeWithManifest`, naming every file with its size and SHA-256). A local folder is
 * published by one rename of a finished directory, so there `checkpoint.json` (written last
 * before the rename) marks a complete one, as `listCheckpoints` has it. A folder without its
 * mark is an upload that was cut off (or is still going): nobody reads it.
 */
import { readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, describeFsError } from '../../errors.ts';
import { LocalStorage } from '../../storage/local.ts';
import { MANIFEST_NAME, readWithManifest, writeWithManifest } from '../../storage/manifest.ts';
import { joinKey, type Storage } from '../../storage/storage.ts';
import { temporarySibling, writeFileSynced } from '../../util/atomic.ts';
import { makeDirectory } from '../../util/directory.ts';
import { CHECKPOINT_JSON, parseCheckpointDirName } from './format.ts';

export interface StoredCheckpoint {
  step: number;
  /** The folder's key, e.g. `run/checkpoints/step-000001600`. */
  folder: string;
  /** When its mark (manifest or checkpoint.json) was written; undefined for an incomplete one. */
  completed?: Date;
  /** Every key in the folder. */
  keys: string[];
}

export interface StoredCheckpoints {
  /** Oldest first. */
  complete: StoredCheckpoint[];
  /** Folders without their mark, oldest first. */
  incomplete: StoredCheckpoint[];
}

/** The name of the object that says a folder in `storage` is complete. */
function completionMark(storage: Storage, names: ReadonlySet<string>): string | undefined {
  if (names.has(MANIFEST_NAME)) return MANIFEST_NAME;
  if (storage instanceof LocalStorage && names.has(CHECKPOINT_JSON)) return CHECKPOINT_JSON;
  return undefined;
}

/** The checkpoint folders under `checkpointsKey` (e.g. `run/checkpoints`), from one listing. */
export async function listStoredCheckpoints(storage: Storage, checkpointsKey: string): Promise<StoredCheckpoints> {
  const prefix = `${checkpointsKey}/`;
  const folders = new Map<string, { step: number; names: Map<string, Date>; keys: string[] }>();
  for (const info of await storage.list(prefix)) {
    const [dirName, ...rest] = info.key.slice(prefix.length).split('/');
    const step = parseCheckpointDirName(dirName ?? '');
    if (step === undefined || rest.length === 0) continue;
    let folder = folders.get(dirName!);
    if (!folder) folders.set(dirName!, (folder = { step, names: new Map(), keys: [] }));
    folder.names.set(rest.join('/'), info.modified);
    folder.keys.push(info.key);
  }
  const found: StoredCheckpoints = { complete: [], incomplete: [] };
  for (const [dirName, { step, names, keys }] of [...folders].sort((a, b) => a[1].step - b[1].step)) {
    const mark = completionMark(storage, new Set(names.keys()));
    const entry: StoredCheckpoint = { step, folder: joinKey(checkpointsKey, dirName), keys };
    if (mark === undefined) found.incomplete.push(entry);
    else found.complete.push({ ...entry, completed: names.get(mark)! });
  }
  return found;
}

/** The files of a local checkpoint folder (plain files directly inside it), in name order. */
async function localFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw new UserError(describeFsError(error, 'read checkpoint', dir));
  }
}

/**
 * Uploads a finished local checkpoint folder to `folder` in `storage`: each file as a whole
 * object, then the manifest. Returns the bytes uploaded (the manifest left out).
 */
export async function uploadCheckpoint(localDir: string, storage: Storage, folder: string): Promise<number> {
  const files = new Map<string, Buffer>();
  for (const name of await localFiles(localDir)) {
    try {
      files.set(name, await readFile(join(localDir, name)));
    } catch (error) {
      throw new UserError(describeFsError(error, 'read checkpoint file', join(localDir, name)));
    }
  }
  await writeWithManifest(storage, folder, files);
  let bytes = 0;
  for (const data of files.values()) bytes += data.byteLength;
  return bytes;
}

/**
 * Reads the checkpoint at `folder` in `storage` (every file checked against the manifest) into
 * the local folder `localDir`, which appears whole or not at all (temporary sibling, one rename).
 */
export async function downloadCheckpoint(storage: Storage, folder: string, localDir: string): Promise<void> {
  const files = await readWithManifest(storage, folder);
  const parent = join(localDir, '..');
  await makeDirectory(parent, 'create the checkpoint directory');
  const temporary = temporarySibling(localDir);
  try {
    await makeDirectory(temporary, 'create the checkpoint directory');
    for (const [name, data] of files) {
      if (name.includes('/')) throw new UserError(`${storage.location(joinKey(folder, name))}: not a checkpoint file`);
      await writeFileSynced(join(temporary, name), data);
    }
    await rm(localDir, { recursive: true, force: true });
    await rename(temporary, localDir);
  } catch (error) {
    await rm(temporary, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof UserError) throw error;
    throw new UserError(describeFsError(error, 'write checkpoint', localDir));
  }
}

/** Deletes every object of a checkpoint folder (an upload that was cut off). */
export async function deleteStoredCheckpoint(storage: Storage, checkpoint: StoredCheckpoint): Promise<void> {
  for (const key of checkpoint.keys) await storage.delete(key);
}
