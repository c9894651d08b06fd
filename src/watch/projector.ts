/**
 * The run's entries in TensorBoard's embedding projector: per step, the 128-d embeddings
 * (`embedding:step-N`) and our aligned 2-D frame (`tsne:step-N`, shape [N, 2], so the projector
 * can show the frame exactly as drawn); both share one metadata TSV (label, class name, test-set
 * index) and one sprite of the validation images, written once per run.
 */
import { pathExists as exists } from '../util/exists.ts';
import { ProjectorWriter } from '../tensorboard/index.ts';
import type { ProjectorOutput } from './frame.ts';
import { stepLabel } from './paths.ts';
import type { ValidationSet } from './stages.ts';

export const PROJECTOR_DIR = 'embeddings/projector';
const METADATA = `${PROJECTOR_DIR}/metadata.tsv`;
const SPRITE = `${PROJECTOR_DIR}/sprite.png`;
const TILE = 32;

export function embeddingTensorName(step: number): string {
  return `embedding:step-${stepLabel(step)}`;
}

export function frameTensorName(step: number): string {
  return `tsne:step-${stepLabel(step)}`;
}

export async function createProjectorOutput(runDir: string, validation: ValidationSet): Promise<ProjectorOutput> {
  const writer = new ProjectorWriter(runDir);
  // Written once per run; a restarted watcher finds them (same subset: checked via the state).
  if (!(await exists(writer.resolve(METADATA).absolute))) {
    const rows = Array.from(validation.labels, (label, i) => [
      String(label),
      validation.classNames[label] ?? String(label),
      String(validation.testIndices[i]),
    ]);
    await writer.writeMetadata(METADATA, ['label', 'class', 'test_index'], rows);
  }
  if (!(await exists(writer.resolve(SPRITE).absolute))) {
    await writer.writeSprite(SPRITE, validation.images, validation.count, TILE, TILE);
  }
  const sprite = { imagePath: SPRITE, tileWidth: TILE, tileHeight: TILE };

  return {
    async addStep(step, embeddings, dim, positions) {
      const label = stepLabel(step);
      await writer.addEmbedding({
        tensorName: embeddingTensorName(step),
        values: embeddings,
        count: validation.count,
        dims: dim,
        tensorPath: `${PROJECTOR_DIR}/step-${label}.tsv`,
        metadataPath: METADATA,
        sprite,
      });
      await writer.addEmbedding({
        tensorName: frameTensorName(step),
        values: positions,
        count: validation.count,
        dims: 2,
        tensorPath: `${PROJECTOR_DIR}/step-${label}-tsne.tsv`,
        metadataPath: METADATA,
        sprite,
      });
    },
  };
}
