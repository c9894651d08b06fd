/**
 * The chain's entries in TensorBoard's embedding projector: per step, the 128-d embeddings
 * (`embedding:step-N`; not for a tag's chain, whose embeddings are the user's own entries) and
 * our aligned 2-D frame (`tsne:step-N`); both share one metadata TSV
 * (label, class name, test-set index) and one sprite of the validation images, written once per
 * run.
 *
 * The frame is stored as 3-D points (x, y, 0): the projector always starts with its own PCA
 * and, given only 2 columns, shows "Total variance described: NaN%" and draws nothing
 * (TensorBoard 2.21). With a third, constant column its PCA is a rotation of our frame, so the
 * projector draws the frame as we drew it, up to rotation and mirroring.
 */
import { readFile } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { stepLabel, type ChainLayout } from '../../layout.ts';
import { ProjectorWriter, tensorTsv } from '../../tensorboard/index.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { pathExists as exists } from '../../util/exists.ts';
import { parseNumberTable } from '../../util/tsv.ts';
import type { PointSet } from '../source.ts';
import { isOwnEntry } from '../sources/projector/discover.ts';
import type { SinkSpec } from './sink.ts';

export function embeddingTensorName(step: number): string {
  return `embedding:step-${stepLabel(step)}`;
}

export function frameTensorName(step: number): string {
  return `tsne:step-${stepLabel(step)}`;
}

/** Columns of a `tsne:step-N` entry: x, y and a zero depth (see the header). */
export const FRAME_COLUMNS = 3;

/** Interleaved 2-D positions `[x0, y0, x1, y1, …]` as rows of (x, y, 0). */
export function framePoints(positions: Float64Array, count: number): Float64Array {
  const points = new Float64Array(count * FRAME_COLUMNS);
  for (let i = 0; i < count; i++) {
    points[i * FRAME_COLUMNS] = positions[2 * i]!;
    points[i * FRAME_COLUMNS + 1] = positions[2 * i + 1]!;
  }
  return points;
}

/**
 * Rewrites the 2-column `tsne:step-N` entries a watcher wrote before frames had a third column,
 * so a restarted watcher leaves a run whose every frame the projector can draw.
 */
async function addDepthToFlatFrames(writer: ProjectorWriter): Promise<void> {
  for (const entry of (await writer.readConfig()).embeddings ?? []) {
    if (!entry.tensor_name?.startsWith('tsne:') || entry.tensor_shape?.[1] !== 2 || !entry.tensor_path) continue;
    const path = writer.resolve(entry.tensor_path).absolute;
    const advice = 'move the embeddings folder away to start over';
    const frame = parseNumberTable(await readFile(path, 'utf8'), path, { advice });
    const points = framePoints(frame.data, frame.rows);
    await writeFileAtomic(path, tensorTsv(points, frame.rows, FRAME_COLUMNS, entry.tensor_name));
    await writer.addEntry({ ...entry, tensor_shape: [frame.rows, FRAME_COLUMNS] });
  }
}

/**
 * The chain's metadata and sprite, written once: a restarted watcher finds them (the same points:
 * the record's fingerprint checks that).
 */
async function writePointFiles(writer: ProjectorWriter, files: ProjectorFiles, points: PointSet): Promise<void> {
  const { metadata, sprite } = files;
  if (!(await exists(writer.resolve(metadata).absolute))) {
    const rows = Array.from(points.labels, (label, i) => [
      String(label),
      points.classNames[label] ?? String(label),
      String(points.testIndices[i]),
    ]);
    await writer.writeMetadata(metadata, ['label', 'class', 'test_index'], rows);
  }
  if (points.images && !(await exists(writer.resolve(sprite).absolute))) {
    await writer.writeSprite(sprite, points.images, points.count, points.tile, points.tile);
  }
}

type ProjectorFiles = ChainLayout['projectorFiles'];

/**
 * Where the chain's projector config goes: `layout.projectorRoot` (for our own chain the run
 * directory, where TensorBoard's projector looks for the run), unless the config there is
 * another writer's (a PyTorch SummaryWriter logging embeddings into the same run, or a file that
 * does not parse): then the chain's own folder, which TensorBoard lists as a run too, so the
 * user's file is never written.
 */
async function projectorPlace(layout: ChainLayout): Promise<{ root: string; files: ProjectorFiles }> {
  const files = layout.projectorFiles;
  if (layout.projectorRoot === layout.embeddings) return { root: layout.projectorRoot, files };
  const config = await new ProjectorWriter(layout.projectorRoot).readConfig().catch(() => null);
  if (config !== null && (config.embeddings ?? []).every(isOwnEntry)) return { root: layout.projectorRoot, files };
  const prefix = `${relative(layout.projectorRoot, layout.embeddings).split(sep).join('/')}/`;
  const inChain = (path: string) => (path.startsWith(prefix) ? path.slice(prefix.length) : path);
  const embeddings = files.embeddings;
  return {
    root: layout.embeddings,
    files: {
      metadata: inChain(files.metadata),
      sprite: inChain(files.sprite),
      embeddings: embeddings && ((step) => inChain(embeddings(step))),
      frame: (step) => inChain(files.frame(step)),
    },
  };
}

export const projectorSink: SinkSpec = {
  point: 'projector',
  async open({ layout, points }) {
    const { root, files } = await projectorPlace(layout);
    const writer = new ProjectorWriter(root);
    await writePointFiles(writer, files, points);
    await addDepthToFlatFrames(writer);
    // Points without thumbnails (a user's run without a sprite) get entries without one.
    const sprite = points.images
      ? { imagePath: files.sprite, tileWidth: points.tile, tileHeight: points.tile }
      : undefined;
    return {
      async write({ step, embeddings, dim, positions }) {
        if (files.embeddings) {
          await writer.addEmbedding({
            tensorName: embeddingTensorName(step),
            values: embeddings,
            count: points.count,
            dims: dim,
            tensorPath: files.embeddings(step),
            metadataPath: files.metadata,
            sprite,
          });
        }
        await writer.addEmbedding({
          tensorName: frameTensorName(step),
          values: framePoints(positions, points.count),
          count: points.count,
          dims: FRAME_COLUMNS,
          tensorPath: files.frame(step),
          metadataPath: files.metadata,
          sprite,
        });
      },
      async close() {},
    };
  },
};
