/**
 * What a test needs from outside the checkout: `../shared` (fixtures, tools), the CIFAR-10
 * archive, the real TensorBoard (Debian's python3 packages), Chromium with playwright-core,
 * SwiftShader (Vulkan on the CPU, for the WebGPU kernels), and an S3 endpoint (the Ceph gateway
 * that `../shared/tools/ceph/s3-up.sh` starts, with boto3 for TensorBoard reading s3://).
 *
 * Every test asks the same way: `test(name, { skip: needs('tensorboard') }, ...)`. On a user's
 * machine a missing requirement skips the test with one line that says what to install. CI
 * (`.ci/run` sets `EMBEDDING_TIMELAPSE_REQUIRE=all`) must run them all, so there a missing one
 * fails the test file instead of skipping quietly.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** `../shared` beside the checkout (read-only). */
export const SHARED_DIR = resolve(REPO_ROOT, '..', 'shared');
export const CHROMIUM_PATH = '/usr/bin/chromium';
/** How every browser test launches Chromium: headless, no GPU, nothing fetched from outside. */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const TENSORBOARD_SERVE = join(SHARED_DIR, 'tools', 'tensorboard', 'serve');
export const SWIFTSHADER_ENV = join(SHARED_DIR, 'tools', 'swiftshader', 'env.sh');

export type Requirement = 'shared' | 'cifar' | 'tensorboard' | 'chromium' | 'swiftshader' | 's3' | 'boto3';

const S3_UP = '../shared/tools/ceph/s3-up.sh';

// python3-markupsafe: werkzeug (in the serve script's bundle) imports it; ../shared/tools/README.md omits it.
const TENSORBOARD_PYTHON_PACKAGES =
  'python3-numpy python3-protobuf python3-grpcio python3-pil python3-packaging python3-markupsafe';

/** Why the requirement is missing (one line, with what to do), or undefined when present. */
function missing(requirement: Requirement): string | undefined {
  switch (requirement) {
    case 'shared':
      return existsSync(SHARED_DIR) ? undefined : `needs ../shared beside the checkout (${SHARED_DIR})`;
    case 'cifar': {
      const path = process.env.CIFAR10_PATH;
      if (!path) return 'set CIFAR10_PATH to ../shared/data/cifar-10-binary.tar.gz to run this test';
      return existsSync(path) ? undefined : `CIFAR10_PATH points to ${path}, which does not exist`;
    }
    case 'tensorboard': {
      if (!existsSync(TENSORBOARD_SERVE)) return `needs the real TensorBoard at ${TENSORBOARD_SERVE} (../shared)`;
      const imports = 'import numpy, google.protobuf, grpc, PIL, packaging, markupsafe';
      const probe = spawnSync('/usr/bin/python3', ['-c', imports], { stdio: 'ignore' });
      return probe.status === 0
        ? undefined
        : `needs python3 with TensorBoard's packages: apt-get install ${TENSORBOARD_PYTHON_PACKAGES}`;
    }
    case 'chromium': {
      if (!existsSync(CHROMIUM_PATH)) return `needs Debian's chromium at ${CHROMIUM_PATH}: apt-get install chromium`;
      try {
        createRequire(import.meta.url).resolve('playwright-core');
        return undefined;
      } catch {
        return 'needs playwright-core: npm ci';
      }
    }
    case 'swiftshader':
      return existsSync(SWIFTSHADER_ENV) ? undefined : `needs SwiftShader at ${SWIFTSHADER_ENV} (../shared)`;
    // Only a configured endpoint counts: tests create and delete buckets, never on a user's AWS account.
    case 's3':
      return (process.env.AWS_ENDPOINT_URL || process.env.S3_ENDPOINT) && process.env.AWS_ACCESS_KEY_ID
        ? undefined
        : `needs an S3-compatible endpoint in the environment: eval "$(${S3_UP})"`;
    case 'boto3': {
      const probe = spawnSync('/usr/bin/python3', ['-c', 'import boto3'], { stdio: 'ignore' });
      return probe.status === 0
        ? undefined
        : "needs boto3 for TensorBoard's s3:// reading: apt-get install python3-boto3";
    }
  }
}

function requiredByCi(): boolean {
  return process.env.EMBEDDING_TIMELAPSE_REQUIRE === 'all';
}

/**
 * For a test's `skip` option: false when every requirement is present, else the reason to skip.
 * Under CI a missing requirement throws, so the test file fails instead of skipping.
 */
export function needs(...requirements: Requirement[]): string | false {
  for (const requirement of requirements) {
    const reason = missing(requirement);
    if (reason === undefined) continue;
    if (requiredByCi()) throw new Error(`CI requires every test to run, but this one ${reason}`);
    return reason;
  }
  return false;
}

/** The environment a child process needs to see SwiftShader's Vulkan device (see env.sh). */
export function swiftshaderEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const dir = dirname(SWIFTSHADER_ENV);
  const icd = join(dir, 'vk_swiftshader_icd.json');
  const libraryPath = [dir, base.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return { ...base, VK_DRIVER_FILES: icd, VK_ICD_FILENAMES: icd, LD_LIBRARY_PATH: libraryPath };
}
