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
 * Local and s3:// runs alternate, round by round, so a machine loaded by other work weighs on both.
 *
 *   eval "$(../shared/tools/ceph/s3-up.sh)"; tsx scripts/bench-s3-watch.ts [--frames 6] [--points 1000] [--rounds 2]
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
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
import { parseScriptArgs } from './script-args.ts';

const { values } = parseScriptArgs('bench:s3', import.meta.url, {
  frames: { type: 'string', default: '6' },
  points: { type: 'string', default: '1000' },
  rounds: { type: 'string', default: '2' },
});
const rounds = Number(values.rounds);
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
const worker = new TsneWorker();
const client = new S3Client(s3ClientConfig());

async function localRun(): Promise<{ reports: FrameReport[]; wall: number }> {
  const logdir = await mkdtemp(join(tmpdir(), 'bench-s3-watch-'));
  for (const [k, step] of steps.entries()) await writeFakeCheckpoint(logdir, 'r', step, k % 10);
  const reports: FrameReport[] = [];
  const started = performance.now();
  await new Watcher({ ...options(reports, worker), logdir }).run();
  const wall = (performance.now() - started) / 1000;
  await rm(logdir, { recursive: true, force: true });
  return { reports, wall };
}

/** The same on s3://, in a bucket of its own. */
async function s3Run(): Promise<{ reports: FrameReport[]; wall: number; requests: number; transfers: number }> {
  const bucket = `et-bench-${randomBytes(5).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const url = `s3://${bucket}/logs`;
  const storage = storageFor(url);
  for (const [k, step] of steps.entries()) {
    const meta = Buffer.from(JSON.stringify(fakeCheckpointMeta(step, k % 10)));
    await writeWithManifest(storage, `r/checkpoints/${checkpointDirName(step)}`, new Map([['checkpoint.json', meta]]));
  }
  const reports: FrameReport[] = [];
  const remote = new RemoteWatch({ logdir: url, watcher: options(reports, worker) });
  const started = performance.now();
  await remote.run();
  const wall = (performance.now() - started) / 1000;
  const counts = remote.requests();
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (keys.length === 0) break;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  return { reports, wall, requests: counts.listing + counts.leases + counts.transfers, transfers: counts.transfers };
}

console.log(
  `watch, ${frames} frames of ${points} points, ${rounds} rounds of local then s3:// (${configuredEndpoint()}):`,
);
for (let round = 1; round <= rounds; round++) {
  const local = await localRun();
  const s3 = await s3Run();
  const frameTime = (run: { reports: FrameReport[] }) => mean(run.reports.map((r) => r.seconds.total));
  const writeTime = (run: { reports: FrameReport[] }) => mean(run.reports.map((r) => r.seconds.write));
  console.log(
    `  round ${round}: frame time local ${frameTime(local).toFixed(3)} s (writes ${writeTime(local).toFixed(3)} s), ` +
      `s3:// ${frameTime(s3).toFixed(3)} s (writes and uploads ${writeTime(s3).toFixed(3)} s): ` +
      `ratio ${(frameTime(s3) / frameTime(local)).toFixed(2)}; whole run ${(local.wall / frames).toFixed(3)} vs ` +
      `${(s3.wall / frames).toFixed(3)} s/frame: ratio ${(s3.wall / local.wall).toFixed(2)}; ` +
      `requests ${(s3.requests / frames).toFixed(1)} per frame (transfers ${(s3.transfers / frames).toFixed(1)})`,
  );
}
await worker.close();
client.destroy();
