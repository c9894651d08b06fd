/**
 * The WebGPU kernels and the fused Adam on SwiftShader (Vulkan on the CPU): correctness against
 * the cpu backend, and what a warmed-up training step asks of the device. All checks run in one
 * child process (the Vulkan variables must be set when a process starts, and Dawn's start-up is
 * paid once); see webgpu/swiftshader-checks.ts. Small shapes: SwiftShader is slow.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { needs, swiftshaderEnv, SWIFTSHADER_ENV } from '../helpers/requirements.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const TOLERANCE = 1e-5;

type Record = { check: string; [key: string]: unknown };

type ChildResult = { stdout: string; stderr: string; code: number | null };

function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

function runChecks(): Promise<Record[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'webgpu', 'swiftshader-checks.ts')], {
      env: swiftshaderEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`checks exited with ${code}:\n${stderr.slice(-3000)}`));
      else
        resolve(
          stdout
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Record),
        );
    });
  });
}

describe('webgpu on SwiftShader', { skip: needs('swiftshader') }, () => {
  let records: Record[] = [];
  const all = (check: string) => records.filter((r) => r.check === check);
  const one = (check: string) => {
    const found = all(check);
    assert.equal(found.length, 1, `one '${check}' record`);
    return found[0]!;
  };

  before(async () => {
    records = await runChecks();
  });

  test('the checks ran to the end, on a SwiftShader adapter', () => {
    assert.ok(records.some((r) => r.check === 'done'));
  });

  test('our filter gradient matches the cpu backend on every ResNet convolution shape', () => {
    const cases = all('filterGradient');
    assert.equal(cases.length, 6);
    for (const r of cases) {
      assert.ok((r.relError as number) < TOLERANCE, `${String(r.name)}: relative error ${String(r.relError)}`);
      assert.equal(r.leaked, 0, `${String(r.name)}: tensors leaked`);
    }
    const compiled = all('filterGradientPrograms').flatMap((r) => r.compiled as string[]);
    assert.ok(compiled.includes('FilterGradGemmProgram'), `our GEMM ran (compiled: ${compiled.join(', ')})`);
    assert.ok(compiled.includes('SumPartialsProgram'), 'split-K partial sums ran');
    assert.ok(!compiled.includes('Conv2DDerFilterProgram'), "tfjs's naive filter gradient did not run");
  });

  test('input and filter gradients through tf.grads match the cpu backend (kernels 1/3/7, strides 1/2)', () => {
    const cases = all('convGradients');
    assert.equal(cases.length, 16);
    for (const r of cases) {
      assert.ok(
        (r.dxError as number) < TOLERANCE,
        `${String(r.name)}: input gradient relative error ${String(r.dxError)}`,
      );
      assert.ok(
        (r.dwError as number) < TOLERANCE,
        `${String(r.name)}: filter gradient relative error ${String(r.dwError)}`,
      );
      assert.equal(r.leaked, 0);
    }
  });

  test("fused Adam follows tfjs's AdamOptimizer for three steps, with the same state layout", () => {
    const r = one('adam');
    assert.ok((r.valuesError as number) < TOLERANCE, `weights relative error ${String(r.valuesError)}`);
    assert.ok((r.momentsError as number) < TOLERANCE, `moments relative error ${String(r.momentsError)}`);
    assert.ok(
      (r.resumedError as number) < TOLERANCE,
      `stock optimizer resumed from fused state: ${String(r.resumedError)}`,
    );
    assert.deepEqual(r.names, r.stockNames);
    assert.equal(r.iterations, 3);
    // Three variables: two moment kernels and one update each, once the moments exist.
    assert.deepEqual((r.dispatches as number[]).slice(1), [9, 9]);
  });

  test('two training steps of ResNet [1,1,1] give the same loss on webgpu as on cpu', () => {
    const r = one('training');
    const cpu = r.cpu as number[];
    const gpu = r.webgpu as number[];
    assert.equal(gpu.length, 2);
    for (let i = 0; i < 2; i++) {
      assert.ok(Math.abs(gpu[i]! - cpu[i]!) < 1e-4, `step ${i + 1}: webgpu ${gpu[i]} vs cpu ${cpu[i]}`);
    }
  });

  test('warmed-up training steps compile nothing and upload only the batch and a few scalars', () => {
    const r = one('deviceWork');
    assert.equal(r.createShaderModule, 0, 'shader modules compiled in steps 3-4');
    assert.equal(r.createComputePipeline, 0, `pipelines compiled in steps 3-4: ${String(r.compiled)}`);
    assert.equal(r.leakedTensors, 0);
    // Every buffer created is an upload's staging buffer (tfjs makes and destroys one per upload);
    // the pool serves everything else. Per step: images, labels (twice) and 16 tfjs-core/-layers
    // scalars (2 per batch norm for its moving averages, the loss's 2) — see src/backend/README.md.
    assert.equal(r.createBuffer, r.uploads, 'buffers created = uploads');
    const shapes = r.uploadShapes as { [shape: string]: number };
    assert.equal(shapes['[4,32,32,3]'], 2, 'one image batch per step');
    assert.ok((r.uploads as number) <= 2 * 19, `uploads in two steps: ${JSON.stringify(shapes)}`);
    // tfjs writes each dispatch's uniforms with queue.writeBuffer: one per dispatch, no more.
    assert.equal(r.writeBuffer, r.dispatches);
  });

  test("auto passes SwiftShader over for training (wasm) and for the watcher's inference (ONNX Runtime)", () => {
    const auto = one('auto');
    assert.equal(auto.name, 'wasm');
    assert.match(auto.reason as string, /webgpu: only a software adapter \(google swiftshader/);
    const embed = one('embedAuto');
    assert.equal(embed.name, 'onnxruntime');
    assert.match((embed.lines as string[]).join('\n'), /webgpu passed over: only a software adapter/);
  });

  test('with a (faked) hardware adapter, inference auto embeds on webgpu, same as the layers model', () => {
    const r = one('embedGpu');
    assert.equal(r.name, 'tfjs-webgpu');
    assert.equal(r.backend, 'webgpu');
    const expected = 'inference: tfjs on webgpu, folded inference graph (auto: GPU adapter: (faked for the test))';
    assert.ok((r.lines as string[]).includes(expected), (r.lines as string[]).join('\n'));
    assert.ok((r.embeddingError as number) < 1e-4, `embeddings: ${String(r.embeddingError)}`);
    assert.ok((r.logitsError as number) < 1e-4, `logits: ${String(r.logitsError)}`);
  });
});

test("probing for a GPU prints nothing; Dawn's messages only when asked", { skip: needs('swiftshader') }, async () => {
  // The Vulkan loader without any driver: Dawn says 'Found no drivers!' on stderr when asked.
  const noDriver = '/nonexistent/icd.json';
  const loaderOnly = {
    ...process.env,
    LD_LIBRARY_PATH: dirname(SWIFTSHADER_ENV),
    VK_DRIVER_FILES: noDriver,
    VK_ICD_FILENAMES: noDriver,
  };
  const script = [
    "import { probeWebGpu } from './src/backend/probes.ts';",
    'const quiet = await probeWebGpu(false);',
    'let messages = "";',
    'const verbose = await probeWebGpu(false, process.env, { verbose: true, log: (text) => (messages += text) });',
    'console.log(JSON.stringify({ quiet, verbose, messages }));',
    'process.exit(0);',
  ].join('\n');
  const { stdout, stderr, code } = await runChild(['--input-type=module', '-e', script], loaderOnly);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '', 'nothing on stderr');
  const result = JSON.parse(stdout) as { quiet: { available: boolean; why: string }; messages: string };
  assert.equal(result.quiet.available, false);
  assert.equal(result.quiet.why, 'no GPU adapter found');
  assert.match(result.messages, /driver/i, "the verbose probe hands Dawn's messages to its log");
});
