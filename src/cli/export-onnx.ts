/**
 * `embedding-timelapse export-onnx <checkpoint-dir> [--out model.onnx]`: writes the checkpoint's
 * inference graph (batch norm folded) as an ONNX model that ONNX Runtime, Netron or Python's
 * `onnx` can load. Input `images` NHWC [N, 32, 32, 3] in [-1, 1]; outputs `logits`, `embedding`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseCommand } from './args.ts';
import { UserError, isUserError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { exportCheckpointToOnnx, ONNX_OPSET } from '../model/onnx.ts';
import { stdio, type CommandOutput } from './output.ts';
import { downloadCheckpoint } from '../model/checkpoint/stored.ts';
import { isS3Url, storageFor } from '../storage/index.ts';
import { disposing } from '../util/dispose.ts';

const HELP = `usage: embedding-timelapse export-onnx <checkpoint-dir> [--out model.onnx]
       embedding-timelapse export-onnx s3://bucket/prefix/run/checkpoints/step-N [--out …]

Exports a checkpoint (a step-NNNNNNNNN directory written by 'train') to ONNX, batch norm folded
into the convolutions. Input 'images' NHWC [N, 32, 32, 3] scaled to [-1, 1]; outputs 'logits'
[N, classes] and 'embedding' [N, width of the last stage]; N is any batch size. A checkpoint
on object storage is read only once its manifest exists, every file checked against it; an
s3:// output is uploaded as one whole object.

options:
  --out <file>   where to write the model, a path or s3://bucket/key
                 (default: <checkpoint-dir>/model.onnx)
  -h, --help     show this help`;

export async function run(argv: string[], output: CommandOutput = stdio): Promise<number> {
  const args = parseCommand(
    'export-onnx',
    argv,
    {
      help: HELP,
      options: { out: { type: 'string' } },
      positional: 'checkpoint directory',
      objectStorage: ['positional', 'out'],
    },
    output,
  );
  if (args === null) return 0;
  const { values, positionals } = args;
  const source = positionals[0]!;
  const fromBucket = isS3Url(source);
  const checkpointDir = fromBucket ? source.replace(/\/+$/, '') : resolve(source);
  const given = values.out ?? `${checkpointDir}/model.onnx`;
  const out = isS3Url(given) ? given : resolve(given);

  const started = performance.now();
  // A checkpoint in a bucket is read into a temporary folder first, its sums checked.
  const downloaded = fromBucket ? await mkdtemp(join(tmpdir(), 'embedding-timelapse-export-')) : undefined;
  await using _downloaded = disposing(() => downloaded && rm(downloaded, { recursive: true, force: true }));
  if (downloaded) {
    const slash = checkpointDir.lastIndexOf('/');
    const missing = () =>
      new UserError(`export-onnx: ${checkpointDir} does not exist; check the path (s3://bucket/…/step-N)`);
    if (slash < 's3://'.length) throw missing();
    const storage = storageFor(checkpointDir.slice(0, slash));
    const folder = checkpointDir.slice(slash + 1);
    if ((await storage.list(`${folder}/`)).length === 0) throw missing();
    await downloadCheckpoint(storage, folder, join(downloaded, 'checkpoint'));
  }
  const { bytes, net, meta } = await exportCheckpointToOnnx(
    downloaded ? join(downloaded, 'checkpoint') : checkpointDir,
  );
  try {
    await writeModel(out, bytes);
  } catch (error) {
    // The checkpoint may well be read-only (a shared log directory): say how to write elsewhere.
    if (isUserError(error) && values.out === undefined)
      throw new UserError(`${error.message} (or pass --out FILE to write the model elsewhere)`);
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  output.line(
    `wrote ${out} (${(bytes.byteLength / 1e6).toFixed(1)} MB, opset ${ONNX_OPSET}, step ${meta.step}, blocks ` +
      `${meta.model.blocks.join(',')}) in ${seconds.toFixed(2)} s: ` +
      `input images [N,32,32,3] NHWC in [-1,1] → logits [N,${net.numClasses}], embedding [N,${net.embeddingSize}]`,
  );
  return 0;
}

/** Writes the model to a local file (atomically) or, for s3://bucket/key, as one whole object. */
async function writeModel(out: string, bytes: Uint8Array): Promise<void> {
  if (!isS3Url(out)) {
    await writeFileAtomic(out, bytes);
    return;
  }
  const slash = out.lastIndexOf('/');
  const name = out.slice(slash + 1);
  if (slash < 's3://'.length || name === '') {
    throw new UserError(`export-onnx: --out ${out} names no object; write s3://bucket/folder/model.onnx`);
  }
  await storageFor(out.slice(0, slash)).write(name, bytes);
}
