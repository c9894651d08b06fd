/**
 * Do gradients on a backend match the cpu backend (tfjs's reference)? Single convolutions in every
 * configuration the ResNet uses, then every weight gradient of the ResNet itself.
 *
 *   tsx scripts/gpu/check-gradients.ts [--backend webgpu] [--blocks 1,1,1;6,6,12] [--batch 4]
 *
 * One NDJSON line per comparison on stdout, a summary line last. Exit code 0: all within
 * tolerance; 1: a mismatch; 2: the backend is not available here (e.g. no GPU adapter).
 * Part of the GPU check kit (scripts/gpu/build-kit.sh); runs anywhere with --backend wasm.
 */
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend, parseBackendChoice } from '../../src/backend/index.ts';
import { checkConvGradients, checkModelGradients, convGradientCases } from '../../src/backend/gradcheck.ts';
import { buildResNet, parseBlocks } from '../../src/model/index.ts';
import { isUserError } from '../../src/errors.ts';

/** Convolutions: float32 with a different summation order. */
const CONV_TOLERANCE = 1e-5;
/**
 * A whole network: float32 differences grow through the batch norms (wasm vs cpu, stock tfjs
 * kernels, ResNet [1,1,1], 4 images: up to 2.5e-2). A wrong kernel gives errors near 1.
 */
const MODEL_TOLERANCE = 5e-2;

const emit = (record: object) => process.stdout.write(JSON.stringify(record) + '\n');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'webgpu' },
      blocks: { type: 'string', default: '1,1,1;6,6,12' },
      batch: { type: 'string', default: '4' },
    },
  });
  const choice = parseBackendChoice(values.backend);
  let backend: string;
  let reason: string;
  try {
    ({ name: backend, reason } = await initBackend(choice, { log: (line) => process.stderr.write(line + '\n') }));
  } catch (error) {
    if (!isUserError(error)) throw error;
    emit({ check: 'summary', backend: choice, available: false, reason: error.message, ok: false });
    return 2;
  }

  let convMax = 0;
  for (const c of convGradientCases()) {
    const check = await checkConvGradients(backend, c);
    const ok = check.dxError < CONV_TOLERANCE && check.dwError < CONV_TOLERANCE;
    convMax = Math.max(convMax, check.dxError, check.dwError);
    emit({
      check: 'conv',
      backend,
      kernel: c.kernel,
      stride: c.stride,
      pad: c.pad,
      size: c.size,
      dx_rel_error: check.dxError,
      dw_rel_error: check.dwError,
      leaked_tensors: check.leakedTensors,
      ok,
    });
  }

  let modelMax = 0;
  const batch = Number(values.batch);
  for (const spec of values.blocks!.split(';')) {
    const blocks = parseBlocks(spec);
    const started = performance.now();
    const checks = await checkModelGradients(backend, () => buildResNet({ blocks, seed: 7 }), batch);
    const worst = checks.reduce((a, b) => (b.error > a.error ? b : a));
    modelMax = Math.max(modelMax, worst.error);
    for (const { name, error } of checks)
      emit({
        check: 'model',
        backend,
        blocks: blocks.join(','),
        batch,
        variable: name,
        rel_error: error,
        ok: error < MODEL_TOLERANCE,
      });
    process.stderr.write(
      `model [${blocks.join(',')}] batch ${batch}: ${checks.length} weights, worst ${worst.name} ` +
        `${worst.error.toExponential(2)} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
    );
  }

  const ok = convMax < CONV_TOLERANCE && modelMax < MODEL_TOLERANCE;
  emit({
    check: 'summary',
    backend,
    available: true,
    reason,
    conv_max_rel_error: convMax,
    conv_tolerance: CONV_TOLERANCE,
    model_max_rel_error: modelMax,
    model_tolerance: MODEL_TOLERANCE,
    ok,
  });
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`check-gradients: ${(error as Error).stack ?? String(error)}\n`);
    emit({ check: 'summary', error: String((error as Error).message ?? error), ok: false });
    process.exit(1);
  },
);
