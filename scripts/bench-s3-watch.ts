/**
 * The watcher on a local folder and on `s3://` (the gateway the environment names, e.g. the
 * loopback Ceph of ../shared/tools/ceph/s3-up.sh), over the same checkpoints: the time per frame
 * as the watcher reports it (t-SNE, render and writes; on s3:// the writes include the uploads),
 * the wall time of the whole `--once` run per frame (on s3:// also the download of the run's
 * outputs and the checkpoints' pulls), and the requests per frame.
 *
 * The model's forward pass is replaced by the fixture embeddings (../shared/fixtures/embeddings,
 * real 128-d embeddings of a training run); t-SNE, alignment, rendering and every write are the
 * real code.
 *
 *   eval "$(../shared/tools/ceph/s3-up.sh)"; tsx scripts/bench-s3-watch.ts [--frames 6] [--points 1000]
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { checkpointDirName } from '../src/model/checkpoint/format.ts';
import { storageFor } from '../src/storage/index.ts';
import { writeWithManifest } from '../src/storage/manifest.ts';
import { configuredEndpoint, s3ClientConfig } from '../src/storage/s3.ts';
import { TsneWorker } from '../src/tsne/worker.ts';
import { Watcher, type WatcherOptions } from '../src/watch/daemon.ts';
import { RemoteWatch } from '../src/watch/remote/remote-watch.ts';
import type { FrameReport, Reporter } from '../src/watch/report.ts';
import type { FrameStages } from '../src/watch/stages.ts';
import { fakeCheckpointMeta, fakeStages, writeFakeCheckpoint } from '../test/watch/helpers/fake-stages.ts';

const { values } = parseArgs({
  options: { frames: { type: 'string', default: '6' }, points: { type: 'string', default: '1000' } },
});
const frames = Number(values.frames);
const points = Number(values.points);
// The SDK's advice to move to Node 22 (eight lines) is not part of the numbers.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
if (!configuredEndpoint()) {
  console.error('bench-s3-watch: no S3 endpoint in the environment; eval "$(../shared/tools/ceph/s3-up.sh)" first');
  process.exit(2);
}

/** The fixture's "forward pass", the real t-SNE (as real-stages.ts runs it). */
function benchStages(worker: TsneWorker): FrameStages {
  return {
    ...fakeStages(),
    async project(embedded, count, init, { seed, perplexity }) {
      const result = await worker.run(embedded.embeddings, count, embedded.dim, {
        init: init ?? undefined,
        seed,
        perplexity,
        threads: availableParallelism(),
      });
      return { positions: result.positions, klDivergence: result.kl, knnPreservation: result.knnPreservation };
    },
  };
}

function quietReporter(reports: FrameReport[]): Reporter {
  return {
    info: () => undefined,
    started: () => undefined,
    frame: (report) => reports.push(report),
    skipped: (run, step, reason) => console.error(`skipped ${run} ${step}: ${reason}`),
    error: (message) => console.error(message),
  };
}

function options(reports: FrameReport[], worker: TsneWorker): Omit<WatcherOptions, 'logdir'> {
  return {
    once: true,
    settings: { valSize: points, seed: 0, perplexity: 30 },
    stages: benchStages(worker),
    reporter: quietReporter(reports),
    gifTween: 4,
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const steps = Array.from({ length: frames }, (_, k) => 100 * (k + 1));

// Local folder.
const worker = new TsneWorker();
const logdir = await mkdtemp(join(tmpdir(), 'bench-s3-watch-'));
for (const [k, step] of steps.entries()) await writeFakeCheckpoint(logdir, 'r', step, k % 10);
const localReports: FrameReport[] = [];
let started = performance.now();
await new Watcher({ ...options(localReports, worker), logdir }).run();
const localWall = (performance.now() - started) / 1000;
await rm(logdir, { recursive: true, force: true });

// The same on s3://, in a bucket of its own.
const client = new S3Client(s3ClientConfig());
const bucket = `et-bench-${randomBytes(5).toString('hex')}`;
await client.send(new CreateBucketCommand({ Bucket: bucket }));
const url = `s3://${bucket}/logs`;
const storage = storageFor(url);
for (const [k, step] of steps.entries()) {
  const meta = Buffer.from(JSON.stringify(fakeCheckpointMeta(step, k % 10)));
  await writeWithManifest(storage, `r/checkpoints/${checkpointDirName(step)}`, new Map([['checkpoint.json', meta]]));
}
const remoteReports: FrameReport[] = [];
const remote = new RemoteWatch({ logdir: url, watcher: options(remoteReports, worker) });
started = performance.now();
await remote.run();
const remoteWall = (performance.now() - started) / 1000;
const requests = remote.requests();
await worker.close();
for (;;) {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
  if (keys.length === 0) break;
  await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
}
await client.send(new DeleteBucketCommand({ Bucket: bucket }));
client.destroy();

const local = mean(localReports.map((r) => r.seconds.total));
const s3 = mean(remoteReports.map((r) => r.seconds.total));
const localWrite = mean(localReports.map((r) => r.seconds.write));
const s3Write = mean(remoteReports.map((r) => r.seconds.write));
const all = requests.listing + requests.leases + requests.transfers;
console.log(`watch, ${frames} frames of ${points} points (${configuredEndpoint()}):`);
console.log(
  `  frame time   local ${local.toFixed(3)} s (writes ${localWrite.toFixed(3)} s)   s3:// ${s3.toFixed(3)} s ` +
    `(writes and uploads ${s3Write.toFixed(3)} s)   ratio ${(s3 / local).toFixed(2)}`,
);
console.log(
  `  whole run    local ${(localWall / frames).toFixed(3)} s/frame   s3:// ${(remoteWall / frames).toFixed(3)} s/frame ` +
    `(with discovery, lease, pulls)   ratio ${(remoteWall / localWall).toFixed(2)}`,
);
console.log(
  `  requests     ${(all / frames).toFixed(1)} per frame (transfers ${(requests.transfers / frames).toFixed(1)}, ` +
    `discovery ${requests.listing}, leases ${requests.leases} for the whole run)`,
);
