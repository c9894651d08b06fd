/**
 * `embedding-timelapse inspect <logdir>`: what TensorBoard would show for a log directory — its
 * runs, each tag with its dashboard, points, steps and latest value, the projector entries —
 * read straight from the files, so it works without TensorBoard and while runs are written.
 */
import { readdir } from 'node:fs/promises';
import { UserError, describeFsError } from '../errors.ts';
import { tensorboardCommand } from '../tensorboard/command.ts';
import { checkLogDirectory } from '../util/directory.ts';
import { summarizeLogdir, type RunSummary, type TagSummary } from '../tensorboard/summarize.ts';
import { summarizeStorage } from '../tensorboard/summarize-storage.ts';
import { isS3Url, storageFor } from '../storage/index.ts';
import { parseCommand } from './args.ts';
import { stdio, type CommandOutput } from './output.ts';

const HELP = `usage: embedding-timelapse inspect <logdir> [options]

<logdir> is a folder or s3://bucket/prefix (object storage; see docs/object-storage.md).

Lists the runs under <logdir> (every directory holding event files or a projector config),
and for each run its tags: the dashboard that shows them (scalars, images, histograms, text),
how many points, the steps they span, and the latest value. Event files that are corrupt are
named with the byte offset of the damage; a record still being written is simply not counted.
Exits 1 when a file is damaged or a tag's steps go backwards (TensorBoard draws those out of order).

options:
  --run NAME      only this run (as listed, e.g. 'resnet-20260101' or '.')
  --json          one JSON object per run (NDJSON) instead of text
  -h, --help      show this help`;

const INSPECT_RETRY_MS = 30_000;

/** TensorBoard's default reservoir size for images per tag. */
const DEFAULT_IMAGES_KEPT = 10;

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(5)));
}

function clipToLine(text: string, width = 40): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > width ? `${flat.slice(0, width - 1)}…` : flat);
}

function describeLatest(tag: TagSummary): string {
  const latest = tag.latest;
  if (latest.scalar !== undefined) {
    let text = `${formatNumber(latest.scalar)}`;
    if (tag.scalarRange && tag.points > 1)
      text += `  (min ${formatNumber(tag.scalarRange[0])}, max ${formatNumber(tag.scalarRange[1])})`;
    if (tag.nonFinite) text += `  (${tag.nonFinite} non-finite)`;
    return text;
  }
  if (latest.image)
    return `${latest.image.width}×${latest.image.height} PNG${latest.image.count > 1 ? ` ×${latest.image.count}` : ''}`;
  if (latest.histogram) {
    const h = latest.histogram;
    return `${h.buckets} buckets, ${formatNumber(h.count)} values in [${formatNumber(h.min)}, ${formatNumber(h.max)}]`;
  }
  if (latest.text !== undefined) return clipToLine(latest.text);
  return '';
}

function table(rows: string[][], indent: string): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
}

function formatRun(run: RunSummary): string[] {
  const lines: string[] = [];
  const when = run.lastWallTime
    ? `, last write ${new Date(run.lastWallTime * 1000)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')}`
    : '';
  lines.push(
    `run '${run.name}'  (${run.eventFiles} event file${run.eventFiles === 1 ? '' : 's'}, ${run.events} events${when})`,
  );
  if (run.tags.length > 0) {
    const rows = [['plugin', 'tag', 'points', 'steps', 'latest']];
    for (const tag of run.tags) {
      const steps = tag.firstStep === tag.lastStep ? String(tag.firstStep) : `${tag.firstStep} … ${tag.lastStep}`;
      const name = tag.displayName ? `${tag.tag} ("${tag.displayName}")` : tag.tag;
      rows.push([tag.plugin, name, String(tag.points), steps, describeLatest(tag)]);
    }
    lines.push(...table(rows, '  '));
  }
  const projector = run.projector;
  if (projector) {
    if (projector.error) {
      lines.push(`  projector: ${projector.error}`);
    } else {
      const entries = projector.embeddings;
      const names =
        entries.length <= 3
          ? entries.map((e) => e.name).join(', ')
          : `${entries[0]!.name} … ${entries[entries.length - 1]!.name}`;
      const shapes = [...new Set(entries.map((e) => e.shape.join('×')))].join(', ');
      const sprite = entries.find((e) => e.sprite)?.sprite;
      lines.push(
        `  projector: ${entries.length} embedding${entries.length === 1 ? '' : 's'} (${names}), shape ${shapes}` +
          `${sprite ? `, sprite tiles ${sprite.join('×')}` : ''}`,
      );
      for (const entry of entries) {
        if (entry.missingFiles.length > 0)
          lines.push(`  ! projector entry '${entry.name}' names missing files: ${entry.missingFiles.join(', ')}`);
      }
    }
  }
  for (const tag of run.tags) {
    if (tag.stepsOutOfOrder > 0) {
      lines.push(
        `  ! tag '${tag.tag}': ${tag.stepsOutOfOrder} point(s) whose step does not increase; TensorBoard draws them ` +
          `out of order`,
      );
    }
  }
  for (const error of run.errors) lines.push(`  ! ${error}`);
  return lines;
}

export async function run(argv: string[], output: CommandOutput = stdio): Promise<number> {
  const args = parseCommand(
    'inspect',
    argv,
    {
      help: HELP,
      options: { run: { type: 'string' }, json: { type: 'boolean' } },
      positional: 'log directory',
      objectStorage: ['positional'],
    },
    output,
  );
  if (args === null) return 0;
  const { values, positionals } = args;
  const logdir = positionals[0]!;
  // A one-off look: wait a little for an endpoint that is away, not the watcher's ten minutes.
  const storage = isS3Url(logdir) ? storageFor(logdir, { retryForMs: INSPECT_RETRY_MS }) : undefined;
  if (!storage) {
    // The runs are found by a walk that passes over folders it cannot read; the log directory
    // itself must be readable, or "no runs yet" would be a false answer.
    await checkLogDirectory(logdir);
    await readdir(logdir).catch((error: unknown) => {
      throw new UserError(describeFsError(error, 'list the runs in', logdir));
    });
  }
  let runs = storage ? await summarizeStorage(storage) : await summarizeLogdir(logdir);
  if (values.run !== undefined) {
    const wanted = values.run;
    const available = runs.map((r) => r.name);
    runs = runs.filter((r) => r.name === wanted);
    if (runs.length === 0)
      throw new UserError(`inspect: no run '${wanted}' in ${logdir}; runs: ${available.join(', ') || 'none'}`);
  }
  if (values.json) {
    for (const summary of runs) output.line(JSON.stringify(summary));
  } else if (runs.length === 0) {
    output.line(`${logdir}: no runs yet (no event files or projector configs found)`);
  } else {
    output.line(`${logdir}: ${runs.length} run${runs.length === 1 ? '' : 's'}\n`);
    output.line(runs.map((r) => formatRun(r).join('\n')).join('\n\n'));
    const crowded = runs.flatMap((r) => r.tags).filter((t) => t.plugin === 'images' && t.points > DEFAULT_IMAGES_KEPT);
    if (crowded.length > 0) {
      output.line(
        `\nhint: TensorBoard keeps ${DEFAULT_IMAGES_KEPT} images per tag by default; to see every frame start it ` +
          `with\n` +
          `  ${tensorboardCommand(logdir)}`,
      );
    }
  }
  // Steps out of order count as a fault: TensorBoard draws such a curve back over itself.
  const faulty = (r: RunSummary) =>
    r.errors.length > 0 || Boolean(r.projector?.error) || r.tags.some((tag) => tag.stepsOutOfOrder > 0);
  return runs.some(faulty) ? 1 : 0;
}
