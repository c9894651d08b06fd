/**
 * Reading what TensorBoard reads: the events of one file, of one run (all its event files in
 * name order), the runs under a log directory, and the last step written per tag.
 */
import { open, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';
import { decodeEvent, type ReadEvent } from './protos.ts';
import { scanRecords } from './record-reader.ts';
import { checkLogDirectory } from '../util/directory.ts';
import { pathExists } from '../util/exists.ts';

export const PROJECTOR_CONFIG_FILE = 'projector_config.pbtxt';

/** TensorBoard treats every file whose name contains "tfevents" as an event file. */
export function isEventFileName(name: string): boolean {
  return name.includes('tfevents');
}

export interface EventFileContents {
  events: ReadEvent[];
  /** File offset of each event's record, parallel to `events`. */
  offsets: number[];
  /** Offset just past the last complete record. */
  end: number;
  /** True when the file ends in a record still being written (not an error). */
  partialTail: boolean;
}

async function readWhole(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UserError(describeFsError(error, 'read event file', path));
  }
}

function decodeAt(payload: Buffer, path: string, offset: number): ReadEvent {
  try {
    return decodeEvent(payload);
  } catch (error) {
    throw new UserError(
      `corrupt event file ${path}: the record at byte offset ${offset} is not an Event ` +
        `(${(error as Error).message}); move the file out of the run directory`,
    );
  }
}

/**
 * Every complete event of one file, with their offsets. A partial last record (the writer is
 * mid-append) is left out; a CRC mismatch or undecodable record throws a UserError with the file
 * name and byte offset. `fromOffset` reads only the records from that offset on (for tailing).
 */
export async function readEventFileDetailed(path: string, fromOffset = 0): Promise<EventFileContents> {
  let data: Buffer;
  if (fromOffset === 0) {
    data = await readWhole(path);
  } else {
    try {
      await using handle = await open(path, 'r');
      const { size } = await handle.stat();
      data = Buffer.alloc(Math.max(0, size - fromOffset));
      const { bytesRead } = await handle.read(data, 0, data.length, fromOffset);
      data = data.subarray(0, bytesRead);
    } catch (error) {
      throw new UserError(describeFsError(error, 'read event file', path));
    }
  }
  const scan = scanRecords(data, path, fromOffset);
  return {
    events: scan.records.map((record) => decodeAt(record.payload, path, record.offset)),
    offsets: scan.records.map((record) => record.offset),
    end: scan.end,
    partialTail: scan.partialTail,
  };
}

/**
 * Every complete event in the bytes of one event file (read from anywhere, e.g. object storage);
 * `name` says where they came from in messages. A record still being written is not an error.
 */
export function decodeEventBytes(data: Buffer, name: string): ReadEvent[] {
  return scanRecords(data, name).records.map((record) => decodeAt(record.payload, name, record.offset));
}

/** Every complete event of one event file, in file order (see `readEventFileDetailed`). */
export async function readEventFile(path: string): Promise<ReadEvent[]> {
  return (await readEventFileDetailed(path)).events;
}

/** The event files directly inside `runDir`, in name order (TensorBoard's reading order). */
export async function listEventFiles(runDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(runDir, { withFileTypes: true });
  } catch (error) {
    throw new UserError(describeFsError(error, 'read run directory', runDir));
  }
  return entries
    .filter((entry) => entry.isFile() && isEventFileName(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => join(runDir, name));
}

/** All events of a run: each event file in name order, concatenated, as TensorBoard merges them. */
export async function readRunEvents(runDir: string): Promise<ReadEvent[]> {
  const events: ReadEvent[] = [];
  for (const file of await listEventFiles(runDir)) events.push(...(await readEventFile(file)));
  return events;
}

/** Same as `readRunEvents` (the name docs/interfaces.md uses). */
export const readEvents = readRunEvents;

export interface RunInfo {
  /** Path relative to the log directory, '/'-separated; '.' for the log directory itself. */
  name: string;
  dir: string;
  eventFiles: string[];
  hasProjectorConfig: boolean;
}

/**
 * The runs under `logdir` as TensorBoard finds them: every directory (the log directory itself
 * included) holding an event file or a projector config. Hidden directories (temporary
 * checkpoint folders start with '.') are skipped. Sorted by name.
 */
export async function listRuns(logdir: string): Promise<RunInfo[]> {
  await checkLogDirectory(logdir);
  const runs: RunInfo[] = [];
  const visit = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // vanished or unreadable subdirectory (e.g. a checkpoint being renamed): skip it
    }
    const eventFiles = entries
      .filter((e) => e.isFile() && isEventFileName(e.name))
      .map((e) => e.name)
      .sort();
    const hasProjectorConfig = entries.some((e) => e.isFile() && e.name === PROJECTOR_CONFIG_FILE);
    if (eventFiles.length > 0 || hasProjectorConfig) {
      const name = relative(logdir, dir).split(sep).join('/') || '.';
      runs.push({ name, dir, eventFiles: eventFiles.map((file) => join(dir, file)), hasProjectorConfig });
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !entry.name.startsWith('.')) await visit(join(dir, entry.name));
    }
  };
  await visit(logdir);
  return runs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The highest step written for each tag in a run (all its event files), so a restarted process
 * can continue upward instead of writing steps TensorBoard would draw out of order.
 */
export async function lastStepsByTag(runDir: string): Promise<Map<string, number>> {
  const last = new Map<string, number>();
  if (!(await pathExists(runDir))) return last; // a run not started yet has written nothing
  for (const event of await readRunEvents(runDir)) {
    for (const value of event.summary?.value ?? []) {
      const tag = value.tag ?? '';
      const previous = last.get(tag);
      if (previous === undefined || event.step > previous) last.set(tag, event.step);
    }
  }
  return last;
}
