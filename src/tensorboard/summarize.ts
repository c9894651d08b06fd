/**
 * What TensorBoard would show for a log directory, computed from the files: runs, and for each
 * tag its dashboard, how many points, which steps, and the latest value. `inspect` prints it.
 */
import { join } from 'node:path';
import { isUserError } from '../errors.ts';
import { pathExists } from '../util/exists.ts';
import { listRuns, readEventFile, type RunInfo } from './event-reader.ts';
import { histogramOf, imagesOf, pluginOf, scalarOf, textOf } from './interpret.ts';
import { ProjectorWriter } from './projector.ts';
import type { EmbeddingInfo, ProjectorConfig, ReadEvent, SummaryValue } from './protos.ts';

export interface TagSummary {
  tag: string;
  /** Dashboard: 'scalars', 'images', 'histograms', 'text', … (from the first value, as TensorBoard does). */
  plugin: string;
  displayName?: string;
  points: number;
  firstStep: number;
  lastStep: number;
  /** Points whose step did not increase over the tag's previous point. */
  stepsOutOfOrder: number;
  /** For scalars: min and max over the finite points, and how many points were NaN or ±Infinity. */
  scalarRange?: [number, number];
  nonFinite?: number;
  /** The value at the last point, described by kind. */
  latest: {
    step: number;
    wallTime: number;
    scalar?: number;
    image?: { width: number; height: number; count: number };
    histogram?: { buckets: number; count: number; min: number; max: number };
    text?: string;
  };
}

export interface ProjectorSummary {
  embeddings: { name: string; shape: number[]; sprite?: number[]; metadata: boolean; missingFiles: string[] }[];
  error?: string;
}

export interface RunSummary {
  name: string;
  dir: string;
  eventFiles: number;
  events: number;
  lastWallTime?: number;
  tags: TagSummary[];
  projector?: ProjectorSummary;
  /** One line per unreadable or corrupt file. */
  errors: string[];
}

function describeLatest(value: SummaryValue, step: number, wallTime: number): TagSummary['latest'] {
  const latest: TagSummary['latest'] = { step, wallTime };
  const scalar = scalarOf(value);
  if (scalar !== undefined) latest.scalar = scalar;
  const images = imagesOf(value);
  if (images.length > 0) latest.image = { width: images[0]!.width, height: images[0]!.height, count: images.length };
  const buckets = histogramOf(value);
  if (buckets !== undefined) {
    latest.histogram = {
      buckets: buckets.length,
      count: buckets.reduce((n, b) => n + b.count, 0),
      min: buckets[0]?.left ?? NaN,
      max: buckets[buckets.length - 1]?.right ?? NaN,
    };
  }
  const text = textOf(value);
  if (text !== undefined) latest.text = text;
  return latest;
}

/**
 * How a run's files are read: from the local file system by default; `summarize-storage.ts`
 * reads them through the storage interface (object storage) instead.
 */
export interface RunFileAccess {
  readEventFile(file: string): Promise<ReadEvent[]>;
  readProjectorConfig(run: RunInfo): Promise<ProjectorConfig>;
  /** Whether `file` (as named in the projector config, relative to the run) exists. */
  exists(run: RunInfo, file: string): Promise<boolean>;
}

const LOCAL_FILES: RunFileAccess = {
  readEventFile,
  readProjectorConfig: (run) => new ProjectorWriter(run.dir).readConfig(),
  exists: (run, file) => pathExists(join(run.dir, file)),
};

async function summarizeProjector(run: RunInfo, access: RunFileAccess): Promise<ProjectorSummary> {
  let embeddings: EmbeddingInfo[];
  try {
    embeddings = (await access.readProjectorConfig(run)).embeddings ?? [];
  } catch (error) {
    if (isUserError(error)) return { embeddings: [], error: error.message };
    throw error;
  }
  const summaries: ProjectorSummary['embeddings'] = [];
  for (const entry of embeddings) {
    const files = [entry.tensor_path, entry.metadata_path, entry.sprite?.image_path].filter((p): p is string => !!p);
    const missingFiles: string[] = [];
    for (const file of files) {
      if (!(await access.exists(run, file))) missingFiles.push(file);
    }
    const summary: ProjectorSummary['embeddings'][number] = {
      name: entry.tensor_name ?? '',
      shape: entry.tensor_shape ?? [],
      metadata: !!entry.metadata_path,
      missingFiles,
    };
    if (entry.sprite?.single_image_dim) summary.sprite = entry.sprite.single_image_dim;
    summaries.push(summary);
  }
  return { embeddings: summaries };
}

/** Adds one point to its tag's summary (created at the tag's first point, as TensorBoard does). */
function addPoint(tags: Map<string, TagSummary>, value: SummaryValue, step: number, wallTime: number): void {
  const tag = value.tag ?? '';
  let entry = tags.get(tag);
  if (entry === undefined) {
    entry = {
      tag,
      plugin: pluginOf(value) ?? 'unknown',
      points: 0,
      firstStep: step,
      lastStep: step,
      stepsOutOfOrder: 0,
      latest: { step, wallTime },
    };
    if (value.metadata?.display_name) entry.displayName = value.metadata.display_name;
    tags.set(tag, entry);
  } else if (step <= entry.lastStep) {
    entry.stepsOutOfOrder++;
  }
  entry.points++;
  entry.lastStep = Math.max(entry.lastStep, step);
  entry.firstStep = Math.min(entry.firstStep, step);
  entry.latest = describeLatest(value, step, wallTime);
  const scalar = entry.latest.scalar;
  if (scalar !== undefined && Number.isFinite(scalar)) {
    entry.scalarRange = entry.scalarRange
      ? [Math.min(entry.scalarRange[0], scalar), Math.max(entry.scalarRange[1], scalar)]
      : [scalar, scalar];
  } else if (scalar !== undefined) {
    entry.nonFinite = (entry.nonFinite ?? 0) + 1;
  }
}

/** Summarises one run: every event file read in name order, as TensorBoard merges them. */
export async function summarizeRun(run: RunInfo, access: RunFileAccess = LOCAL_FILES): Promise<RunSummary> {
  const tags = new Map<string, TagSummary>();
  const summary: RunSummary = {
    name: run.name,
    dir: run.dir,
    eventFiles: run.eventFiles.length,
    events: 0,
    tags: [],
    errors: [],
  };
  for (const file of run.eventFiles) {
    let events;
    try {
      events = await access.readEventFile(file);
    } catch (error) {
      if (!isUserError(error)) throw error;
      summary.errors.push(error.message);
      continue;
    }
    summary.events += events.length;
    for (const event of events) {
      summary.lastWallTime = Math.max(summary.lastWallTime ?? 0, event.wall_time);
      for (const value of event.summary?.value ?? []) addPoint(tags, value, event.step, event.wall_time);
    }
  }
  summary.tags = [...tags.values()].sort((a, b) => a.plugin.localeCompare(b.plugin) || a.tag.localeCompare(b.tag));
  if (run.hasProjectorConfig) summary.projector = await summarizeProjector(run, access);
  return summary;
}

/** Summaries of every run under `logdir` (UserError when it is missing). */
export async function summarizeLogdir(logdir: string): Promise<RunSummary[]> {
  const summaries: RunSummary[] = [];
  for (const run of await listRuns(logdir)) summaries.push(await summarizeRun(run));
  return summaries;
}
