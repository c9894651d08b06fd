/**
 * One run of a bucket, as a local working copy the watcher's machinery (sources, chain, sinks)
 * works on unchanged, synced at the edges:
 *
 *   down   `download()`: the watcher's own outputs of the run, before this process draws it (the
 *          bucket is the truth: a fresh copy on another machine continues where the bucket's
 *          state.json says); `pullCheckpoint()`: a complete checkpoint, its sums checked,
 *          assembled in a hidden folder and renamed into place, so the local source sees it whole.
 *   up     `push()`: every output that changed, as whole objects, in the order that makes
 *          state.json the commit in the bucket too: frame files, projector, GIF and event chunks
 *          first, then state.json, then the page. A watcher killed between any two uploads leaves
 *          a bucket from which the next one redoes at most that frame: every sink's write is
 *          idempotent, and the event guard counts the downloaded event files.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import {
  CHECKPOINTS_DIR,
  LOCK_FILE,
  OWN_CHAIN_DIR,
  PAGE_DATA_DIR,
  PAGE_FILE,
  PAGE_INDEX_FILE,
  PROJECTOR_CONFIG,
  STATE_FILE,
  chainLayout,
} from '../../layout.ts';
import { checkpointDirName } from '../../model/checkpoint/format.ts';
import { downloadCheckpoint } from '../../model/checkpoint/stored.ts';
import { isObjectNotFound, type Storage } from '../../storage/storage.ts';
import { isEventFileName } from '../../tensorboard/event-reader.ts';
import { lastHandledStep } from '../record.ts';
import { readState, type RunState } from '../state.ts';
import { pathExists } from '../../util/exists.ts';
import { EventChunks, eventFileSeconds } from './event-upload.ts';

/** The lease object of a run, beside its outputs (a dotfile: `view` does not serve it). */
export const LEASE_NAME = '.watcher-lease';

/** Uploads of independent objects in flight at once. */
const PARALLEL_UPLOADS = 8;

export interface PushHooks {
  /** Throws when this process may no longer write the run (its lease was lost). */
  checkWritable: () => void;
  /** After each upload (tests kill the watcher there). */
  uploaded?: (key: string) => void | Promise<void>;
}

interface Known {
  size: number;
  mtimeMs: number;
  sha256: string;
}

type Kind = 'output' | 'event' | 'state' | 'page';

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** What a file of the chain folder is, from its path relative to that folder ('/'-separated). */
function kindOf(inChain: string): Kind {
  if (inChain === STATE_FILE) return 'state';
  if (inChain === PAGE_FILE || inChain.startsWith(`${PAGE_DATA_DIR}/`)) return 'page';
  if (!inChain.includes('/') && isEventFileName(inChain)) return 'event';
  return 'output';
}

/** The page's files in the order a reader may see them: data first, the page, then the index naming the data. */
function pageOrder(key: string): number {
  if (key.endsWith(`/${PAGE_DATA_DIR}/${PAGE_INDEX_FILE}`)) return 2;
  return key.endsWith(`/${PAGE_FILE}`) ? 1 : 0;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.') && entry.name !== LOCK_FILE)
    .map((entry) => join(entry.parentPath, entry.name));
}

export class RunCopy {
  /** What the bucket holds of each local output (by key), as last downloaded or uploaded. */
  private readonly known = new Map<string, Known>();
  /** Event files that came from the bucket: they count for the guard and are never uploaded. */
  private readonly downloadedEvents = new Set<string>();
  private events = new EventChunks(0);
  private pushing: Promise<number> = Promise.resolve(0);
  readonly chainDir: string;
  readonly chainKey: string;

  constructor(
    private readonly storage: Storage,
    readonly workDir: string,
    readonly run: string,
  ) {
    this.chainDir = chainLayout(join(workDir, run)).embeddings;
    this.chainKey = `${run}/${OWN_CHAIN_DIR}`;
  }

  get leaseKey(): string {
    return `${this.chainKey}/${LEASE_NAME}`;
  }

  private localPath(key: string): string {
    return join(this.workDir, ...key.split('/'));
  }

  private keyOf(path: string): string {
    return relative(this.workDir, path).split(sep).join('/');
  }

  /** The chain's record in the working copy. */
  localState(): Promise<RunState | null> {
    return readState(join(this.chainDir, STATE_FILE));
  }

  /** The last step the bucket's record has handled; -1 when none (or unreadable: the chain then says why). */
  async lastStepInBucket(): Promise<number> {
    const data = await this.storage.read(`${this.chainKey}/${STATE_FILE}`).catch((error: unknown) => {
      if (isObjectNotFound(error)) return undefined;
      throw error;
    });
    try {
      return data ? lastHandledStep(JSON.parse(data.toString()) as RunState) : -1;
    } catch {
      return -1;
    }
  }

  /**
   * Replaces the working copy's outputs of the run with the bucket's. The page is then marked
   * older than the record, so opening the chain brings it up to the record (a watcher killed
   * before it uploaded the page leaves it behind in the bucket).
   */
  async download(): Promise<number> {
    await rm(this.chainDir, { recursive: true, force: true });
    await rm(this.localPath(`${this.run}/${PROJECTOR_CONFIG}`), { force: true });
    this.known.clear();
    this.downloadedEvents.clear();
    const keys = (await this.storage.list(`${this.chainKey}/`))
      .map((info) => info.key)
      .filter((key) => !key.split('/').some((part) => part.startsWith('.')));
    const config = `${this.run}/${PROJECTOR_CONFIG}`;
    if (await this.storage.exists(config)) keys.push(config);
    let newestEvent = 0;
    await runLimited(keys, 8, async (key) => {
      const data = await this.storage.read(key);
      const path = this.localPath(key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, data);
      const info = await stat(path);
      this.known.set(key, { size: info.size, mtimeMs: info.mtimeMs, sha256: sha256(data) });
      const inChain = key.slice(this.chainKey.length + 1);
      if (key.startsWith(`${this.chainKey}/`) && kindOf(inChain) === 'event') {
        this.downloadedEvents.add(key);
        newestEvent = Math.max(newestEvent, eventFileSeconds(inChain));
      }
    });
    this.events = new EventChunks(newestEvent);
    const pageIndex = join(this.chainDir, PAGE_DATA_DIR, PAGE_INDEX_FILE);
    await utimes(pageIndex, 0, 0).catch(() => undefined);
    return keys.length;
  }

  /** A complete checkpoint, its sums checked, renamed into place whole; nothing when it is there already. */
  async pullCheckpoint(step: number): Promise<void> {
    const name = checkpointDirName(step);
    const final = join(this.workDir, this.run, CHECKPOINTS_DIR, name);
    if (await pathExists(final)) return;
    await downloadCheckpoint(this.storage, `${this.run}/${CHECKPOINTS_DIR}/${name}`, final);
  }

  /** The run's checkpoints folder in the working copy: the daemon lists the run even with no checkpoint pulled. */
  async ensureCheckpointsFolder(): Promise<void> {
    await mkdir(join(this.workDir, this.run, CHECKPOINTS_DIR), { recursive: true });
  }

  /** Removes pulled checkpoints up to `step` (drawn and committed): the working copy stays small. */
  async dropCheckpointsUpTo(step: number): Promise<void> {
    const folder = join(this.workDir, this.run, CHECKPOINTS_DIR);
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const match = /^step-(\d+)$/.exec(name);
      if (match && Number(match[1]) <= step) await rm(join(folder, name), { recursive: true, force: true });
    }
  }

  /** Whether a pulled checkpoint above `step` waits in the working copy. */
  async hasCheckpointsAfter(step: number): Promise<boolean> {
    const names = await readdir(join(this.workDir, this.run, CHECKPOINTS_DIR)).catch(() => [] as string[]);
    return names.some((name) => /^step-\d+$/.test(name) && Number(name.slice(5)) > step);
  }

  /** Uploads what changed (see the header); one push at a time. Returns the number of uploads. */
  push(hooks: PushHooks): Promise<number> {
    const next = this.pushing.catch(() => 0).then(() => this.pushNow(hooks));
    this.pushing = next;
    return next;
  }

  private async pushNow(hooks: PushHooks): Promise<number> {
    const files = [...(await filesUnder(this.chainDir)), this.localPath(`${this.run}/${PROJECTOR_CONFIG}`)];
    const byKind = new Map<Kind, string[]>([
      ['output', []],
      ['event', []],
      ['state', []],
      ['page', []],
    ]);
    for (const path of files) {
      const key = this.keyOf(path);
      const kind = key.startsWith(`${this.chainKey}/`) ? kindOf(key.slice(this.chainKey.length + 1)) : 'output';
      byKind.get(kind)!.push(key);
    }
    // The record is read first: every output read after it is at least as new as it says.
    const stateKey = byKind.get('state')![0];
    const state = stateKey === undefined ? undefined : await this.changed(stateKey);
    let uploads = 0;
    const upload = async (key: string) => {
      const change = await this.changed(key);
      if (!change) return;
      hooks.checkWritable();
      await this.storage.write(key, change.data);
      this.known.set(key, change.info);
      uploads++;
      await hooks.uploaded?.(key);
    };
    const uploadEvents = async (key: string) => {
      if (this.downloadedEvents.has(key)) return;
      if (await this.uploadEventChunk(key, hooks)) uploads++;
    };
    // Independent objects go up side by side; each group waits for the one before.
    const config = (key: string) => key.endsWith(`/${PROJECTOR_CONFIG}`);
    const outputs = byKind.get('output')!;
    await Promise.all([
      runLimited(
        outputs.filter((key) => !config(key)),
        PARALLEL_UPLOADS,
        upload,
      ),
      runLimited(byKind.get('event')!, PARALLEL_UPLOADS, uploadEvents),
    ]);
    // The projector's config names its files; state.json is the commit; the page's index names its chunks.
    for (const key of outputs.filter(config)) await upload(key);
    if (stateKey !== undefined && state) {
      hooks.checkWritable();
      await this.storage.write(stateKey, state.data);
      this.known.set(stateKey, state.info);
      uploads++;
      await hooks.uploaded?.(stateKey);
    }
    const page = byKind.get('page')!;
    await runLimited(
      page.filter((key) => pageOrder(key) === 0),
      PARALLEL_UPLOADS,
      upload,
    );
    for (const key of page.filter((key) => pageOrder(key) > 0).sort((x, y) => pageOrder(x) - pageOrder(y))) {
      await upload(key);
    }
    return uploads;
  }

  /** Uploads what a local event file gained as a new event file; false when it gained nothing. */
  private async uploadEventChunk(key: string, hooks: PushHooks): Promise<boolean> {
    const data = await readFile(this.localPath(key)).catch(() => null);
    const chunk = data && this.events.next(key, data);
    if (!chunk) return false;
    hooks.checkWritable();
    const target = `${this.chainKey}/${chunk.name}`;
    // A create retried after a lost answer reports "exists" for our own upload.
    const created =
      (await this.storage.createIfAbsent(target, chunk.data)) ||
      (await this.storage.read(target).catch(() => undefined))?.equals(chunk.data) === true;
    if (!created) throw new Error(`event file ${this.storage.location(target)} exists already`);
    chunk.done();
    await hooks.uploaded?.(target);
    return true;
  }

  /** The file's bytes when they differ from what the bucket has (undefined when they do not, or it is gone). */
  private async changed(key: string): Promise<{ data: Buffer; info: Known } | undefined> {
    const path = this.localPath(key);
    const before = this.known.get(key);
    const info = await stat(path).catch(() => undefined);
    if (!info) return undefined;
    if (before && before.size === info.size && before.mtimeMs === info.mtimeMs) return undefined;
    const data = await readFile(path).catch(() => undefined);
    if (!data) return undefined;
    const now = { size: info.size, mtimeMs: info.mtimeMs, sha256: sha256(data) };
    if (before?.sha256 === now.sha256) {
      this.known.set(key, now);
      return undefined;
    }
    return { data, info: now };
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function runLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
