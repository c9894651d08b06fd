/**
 * `npm run bench:embed`: images per second of the embedding forward pass (logits + embedding)
 * for each inference engine, at batch 64 and 256, plus the time to export a checkpoint to ONNX.
 *
 *   tfjs-wasm-layers   the checkpoint's LayersModel on tfjs's wasm backend (inference mode)
 *   tfjs-wasm-folded   the folded inference graph on wasm (fused conv + bias + ReLU)
 *   tfjs-webgpu-layers, tfjs-webgpu-folded   the same on webgpu (asked for by name: needs a GPU;
 *                      threads means nothing there and is reported as 1)
 *   onnx               ONNX Runtime (onnxruntime-node), 1 and 2 intra-op threads
 *
 * Prints a table, or with --json one line per measurement:
 *   {"engine":"onnx","threads":2,"batch":256,"img_s":…,"img_per_cpu_s":…}  and  {"engine":"onnx-export","seconds":…}
 *
 * Options: --checkpoint <dir> (default: a freshly initialised model saved to a temp dir),
 * --blocks seed|small|6,6,12, --batches 64,256, --threads 1,2, --seconds 4 (minimum per row),
 * --engines tfjs-wasm-layers,tfjs-wasm-folded,onnx, --no-spin (ONNX Runtime threads sleep instead of
 * spin-waiting: what to use beside the trainer).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.ts';
import { buildResNet, parseBlocks, resolveModelOptions } from '../src/model/resnet.ts';
import { saveCheckpoint } from '../src/model/checkpoint.ts';
import { exportCheckpointToOnnx } from '../src/model/onnx.ts';
import { OnnxEmbedder, probeOnnxRuntime } from '../src/embed/onnx-engine.ts';
import { TfjsEmbedder } from '../src/embed/tfjs-engine.ts';
import type { Embedder } from '../src/embed/types.ts';
import { parseScriptArgs } from './script-args.ts';

const { values } = parseScriptArgs('bench:embed', import.meta.url, {
  json: { type: 'boolean' },
  checkpoint: { type: 'string' },
  blocks: { type: 'string', default: 'seed' },
  batches: { type: 'string', default: '64,256' },
  threads: { type: 'string', default: '1,2' },
  seconds: { type: 'string', default: '4' },
  engines: { type: 'string', default: 'tfjs-wasm-layers,tfjs-wasm-folded,onnx' },
  'no-spin': { type: 'boolean' },
});
const spinWait = !values['no-spin'];
const json = values.json ?? false;
const batches = values.batches!.split(',').map(Number);
const threadCounts = values.threads!.split(',').map(Number);
const minSeconds = Number(values.seconds);
const engines = new Set(values.engines!.split(','));

const say = (line: string) => {
  if (!json) console.log(line);
};
const emit = (record: Record<string, unknown>, line: string) => {
  if (json) console.log(JSON.stringify(record));
  else console.log(line);
};

/**
 * Runs `embed` on one batch until `minSeconds` have passed (at least twice), after one warm-up.
 * Returns images per wall-clock second and per CPU-second of this process: on a shared machine
 * the second is the steadier estimate of what one thread does undisturbed (for one thread).
 */
async function measure(embedder: Embedder, input: Float32Array, batch: number): Promise<{ wall: number; cpu: number }> {
  const images = input.subarray(0, batch * 3072);
  await embedder.embed(images, batch);
  let runs = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  while (runs < 2 || performance.now() - started < minSeconds * 1000) {
    await embedder.embed(images, batch);
    runs++;
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (runs * batch) / seconds, cpu: (runs * batch) / ((cpu.user + cpu.system) / 1e6) };
}

const TFJS_ENGINES = [
  ['wasm', 'layers'],
  ['wasm', 'folded'],
  ['webgpu', 'folded'],
  ['webgpu', 'layers'],
] as const;

/** Switches tfjs to `backend`; false (with a note) when this machine has none (no GPU). */
async function useBackend(backend: 'wasm' | 'webgpu'): Promise<boolean> {
  try {
    await initBackend(backend, { log: json ? () => undefined : say });
    return true;
  } catch (error) {
    say(`tfjs-${backend}: skipped, ${(error as Error).message}`);
    return false;
  }
}

async function main(): Promise<void> {
  say(
    `bench:embed — load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other processes disturb these numbers)`,
  );
  await initBackend('wasm', { log: json ? () => undefined : say });

  let checkpointDir = values.checkpoint;
  let scratch: string | undefined;
  if (!checkpointDir) {
    // A freshly initialised model: the forward pass costs the same as a trained one's.
    scratch = await mkdtemp(join(tmpdir(), 'bench-embed-'));
    const config = { blocks: parseBlocks(values.blocks!), seed: 1 };
    const model = buildResNet(config);
    const optimizer = tf.train.adam(1e-3);
    checkpointDir = await saveCheckpoint(join(scratch, 'checkpoints'), {
      model,
      optimizer,
      meta: { epoch: 0, samplesSeen: 0, iterations: 0, model: resolveModelOptions(config), data: {}, seed: 1 },
    });
    model.dispose();
    optimizer.dispose();
    say(`checkpoint: a fresh ResNet, blocks ${config.blocks.join(',')}, in ${checkpointDir}`);
  } else {
    say(`checkpoint: ${checkpointDir}`);
  }

  const maxBatch = Math.max(...batches);
  // Pixel-like values in [-1, 1]; the forward pass costs the same for any values.
  const input = Float32Array.from({ length: maxBatch * 3072 }, (_, i) => ((i * 2654435761) % 255) / 127.5 - 1);
  const results = new Map<string, number>();
  const row = (engine: string, threads: number, batch: number, speed: { wall: number; cpu: number }) => {
    results.set(`${engine}/${threads}/${batch}`, speed.wall);
    emit(
      {
        engine,
        threads,
        batch,
        img_s: Math.round(speed.wall * 10) / 10,
        img_per_cpu_s: Math.round(speed.cpu * 10) / 10,
      },
      `${engine.padEnd(18)} threads ${threads}  batch ${String(batch).padStart(3)}  ` +
        `${speed.wall.toFixed(1).padStart(8)} img/s  (${speed.cpu.toFixed(1)} img per CPU-second)`,
    );
  };

  try {
    for (const [backend, graph] of TFJS_ENGINES) {
      const engine = `tfjs-${backend}-${graph}`;
      if (!engines.has(engine)) continue;
      if (!(await useBackend(backend))) continue;
      const embedder = new TfjsEmbedder({ graph, reason: 'benchmark', batchSize: maxBatch });
      await embedder.load(checkpointDir);
      for (const batch of batches) row(engine, 1, batch, await measure(embedder, input, batch));
      await embedder.dispose();
    }

    if (engines.has('onnx')) {
      const probe = await probeOnnxRuntime();
      if (!probe.available) {
        say(`onnx: skipped, ${probe.why}`);
      } else {
        // Export: read the checkpoint, fold, encode, write the file — what `export-onnx` does.
        const started = performance.now();
        const exported = await exportCheckpointToOnnx(checkpointDir);
        const onnxPath = join(scratch ?? tmpdir(), `bench-embed-${process.pid}.onnx`);
        await writeFile(onnxPath, exported.bytes);
        const exportSeconds = (performance.now() - started) / 1000;
        await rm(onnxPath, { force: true });
        emit(
          { engine: 'onnx-export', seconds: Math.round(exportSeconds * 1000) / 1000, bytes: exported.bytes.byteLength },
          `onnx export        ${exportSeconds.toFixed(3)} s (${(exported.bytes.byteLength / 1e6).toFixed(1)} MB)`,
        );
        const sizes = { embeddingSize: exported.net.embeddingSize, numClasses: exported.net.numClasses };
        for (const threads of threadCounts) {
          const embedder = new OnnxEmbedder(probe.ort, { threads, batchSize: maxBatch, spinWait, reason: 'benchmark' });
          const sessionStarted = performance.now();
          await embedder.loadModel(exported.bytes, sizes);
          say(
            `onnx session       threads ${threads}  created in ` +
              `${((performance.now() - sessionStarted) / 1000).toFixed(3)} s`,
          );
          for (const batch of batches)
            row(spinWait ? 'onnx' : 'onnx-no-spin', threads, batch, await measure(embedder, input, batch));
          await embedder.dispose();
        }
      }
    }
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }

  const wasm = results.get(`tfjs-wasm-layers/1/${maxBatch}`);
  const onnx2 = results.get(`onnx/2/${maxBatch}`);
  if (wasm && onnx2)
    say(`onnx (2 threads) / tfjs-wasm layers model at batch ${maxBatch}: ${(onnx2 / wasm).toFixed(1)}×`);
  say(
    `load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

await main();
// Dawn (webgpu) can keep the event loop alive after the work is done.
process.exit(0);
