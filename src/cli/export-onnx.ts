/**
 * `embedding-timelapse export-onnx <checkpoint-dir> [--out model.onnx]`: writes the checkpoint's
 * inference graph (batch norm folded) as an ONNX model that ONNX Runtime, Netron or Python's
 * `onnx` can load. Input `images` NHWC [N, 32, 32, 3] in [-1, 1]; outputs `logits`, `embedding`.
 */
import { join, resolve } from 'node:path';
import { parseCommand } from './args.ts';
import { UserError, isUserError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { exportCheckpointToOnnx, ONNX_OPSET } from '../model/onnx.ts';
import { stdio, type CommandOutput } from './output.ts';

const HELP = `usage: embedding-timelapse export-onnx <checkpoint-dir> [--out model.onnx]

Exports a checkpoint (a step-NNNNNNNNN directory written by 'train') to ONNX, batch norm folded
into the convolutions. Input 'images' NHWC [N, 32, 32, 3] scaled to [-1, 1]; outputs 'logits'
[N, classes] and 'embedding' [N, width of the last stage]; N is any batch size.

options:
  --out <file>   where to write the model (default: <checkpoint-dir>/model.onnx)
  -h, --help     show this help`;

export async function run(argv: string[], output: CommandOutput = stdio): Promise<number> {
  const args = parseCommand(
    'export-onnx',
    argv,
    { help: HELP, options: { out: { type: 'string' } }, positional: 'checkpoint directory' },
    output,
  );
  if (args === null) return 0;
  const { values, positionals } = args;
  const checkpointDir = resolve(positionals[0]!);
  const out = resolve(values.out ?? join(checkpointDir, 'model.onnx'));

  const started = performance.now();
  const { bytes, net, meta } = await exportCheckpointToOnnx(checkpointDir);
  try {
    await writeFileAtomic(out, bytes);
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
