/**
 * `inspect` for a log directory behind the storage interface (an `s3://` prefix): the same run
 * summaries as summarize.ts, with runs found by one listing instead of walking folders.
 */
import type { Storage } from '../storage/storage.ts';
import { isObjectNotFound, joinKey } from '../storage/storage.ts';
import { PROJECTOR_CONFIG_FILE, decodeEventBytes, isEventFileName, type RunInfo } from './event-reader.ts';
import { parseProjectorConfig } from './projector.ts';
import { summarizeRun, type RunFileAccess, type RunSummary } from './summarize.ts';

function folderOf(key: string): string {
  return key.includes('/') ? key.slice(0, key.lastIndexOf('/')) : '';
}

function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * Runs as `listRuns` finds them: every folder holding event files (name order) or a projector
 * config, skipping folders whose name starts with '.'. `dir` is the run's key prefix.
 */
export async function listStorageRuns(storage: Storage): Promise<RunInfo[]> {
  const runs = new Map<string, RunInfo>();
  for (const { key } of await storage.list('')) {
    const folder = folderOf(key);
    const name = baseName(key);
    if (folder.split('/').some((part) => part.startsWith('.'))) continue;
    const isEvents = isEventFileName(name);
    if (!isEvents && name !== PROJECTOR_CONFIG_FILE) continue;
    let run = runs.get(folder);
    if (run === undefined) {
      run = { name: folder || '.', dir: folder, eventFiles: [], hasProjectorConfig: false };
      runs.set(folder, run);
    }
    if (isEvents) run.eventFiles.push(key);
    else run.hasProjectorConfig = true;
  }
  for (const run of runs.values()) run.eventFiles.sort();
  return [...runs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function storageAccess(storage: Storage): RunFileAccess {
  return {
    readEventFile: async (key) => decodeEventBytes(await storage.read(key), storage.location(key)),
    readProjectorConfig: async (run) => {
      const key = joinKey(run.dir, PROJECTOR_CONFIG_FILE);
      try {
        return parseProjectorConfig((await storage.read(key)).toString(), storage.location(key));
      } catch (error) {
        if (isObjectNotFound(error)) return {};
        throw error;
      }
    },
    exists: async (run, file) => {
      const key = joinKey(run.dir, file);
      return /(^|\/)\.\.?(\/|$)/.test(file) ? false : storage.exists(key);
    },
  };
}

/** Summaries of every run under the storage's root. */
export async function summarizeStorage(storage: Storage): Promise<RunSummary[]> {
  const access = storageAccess(storage);
  const summaries: RunSummary[] = [];
  for (const run of await listStorageRuns(storage)) {
    const summary = await summarizeRun(run, access);
    summaries.push({ ...summary, dir: run.dir ? storage.location(run.dir) : storage.root });
  }
  return summaries;
}

/**
 * `lastStepsByTag` for a run behind the storage interface: tag → the highest step in the event
 * files directly in the run's folder (`run` is its key; '' for the root).
 */
export async function lastStepsByTagInStorage(storage: Storage, run: string): Promise<Map<string, number>> {
  const last = new Map<string, number>();
  const prefix = run === '' ? '' : `${run}/`;
  const keys = (await storage.list(prefix))
    .map((info) => info.key)
    .filter((key) => !key.slice(prefix.length).includes('/') && isEventFileName(baseName(key)))
    .sort();
  for (const key of keys) {
    for (const event of decodeEventBytes(await storage.read(key), storage.location(key))) {
      for (const value of event.summary?.value ?? []) {
        const tag = value.tag ?? '';
        const previous = last.get(tag);
        if (previous === undefined || event.step > previous) last.set(tag, event.step);
      }
    }
  }
  return last;
}
