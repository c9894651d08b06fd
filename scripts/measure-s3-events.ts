/**
 * Event files on object storage, two ways, read by the real TensorBoard 2.21 from s3://:
 *   rewrite: one event file per run, the whole growing object PUT again on every flush;
 *   roll:    every flush a new event file holding only the new events (RollingEventWriter).
 * TensorBoard runs with --samples_per_plugin images=1000 (keep every image). Each frame writes what
 * the watcher writes per frame (3 scalars and an 800×600 scatter PNG) to both runs, then waits
 * until TensorBoard serves that step for each. Prints per frame the bytes uploaded and how long
 * until TensorBoard served it, then whether every point and image shows.
 *
 *   eval "$(../shared/tools/ceph/s3-up.sh)"; tsx scripts/measure-s3-events.ts [--frames 20] [--every 1000]
 *
 * Needs an S3 endpoint in the environment, python3-boto3 and ../shared/tools/tensorboard.
 */
import { renderScatter } from '../src/render/scatter.ts';
import { S3Storage, parseS3Url } from '../src/storage/index.ts';
import { FILE_VERSION } from '../src/tensorboard/event-file-writer.ts';
import { encodeEvent, type Event } from '../src/tensorboard/protos.ts';
import { frameRecord } from '../src/tensorboard/record-writer.ts';
import { RollingEventWriter, rollingEventFileName } from '../src/tensorboard/rolling-event-writer.ts';
import { imageValue, scalarValue } from '../src/tensorboard/summaries.ts';
import { Random } from '../src/util/random.ts';
import { createTestBucket } from '../test/helpers/s3.ts';
import { Served } from '../test/tensorboard-live/helpers/served.ts';
import { startTensorBoard } from '../test/tensorboard-live/helpers/tensorboard-server.ts';
import { parseScriptArgs } from './script-args.ts';

const { values } = parseScriptArgs('measure-s3-events', import.meta.url, {
  frames: { type: 'string', default: '20' },
  every: { type: 'string', default: '1000' },
});
const frames = Number(values.frames);
const everyMs = Number(values.every);
const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function frameEvents(frame: number, random: Random): Event[] {
  const step = (frame + 1) * 100;
  const count = 2000;
  const points = new Float64Array(count * 2).map(() => random.normal() * 1.2);
  const labels = new Uint8Array(count).map((_, i) => i % 10);
  const png = renderScatter({ points, labels, classNames: CLASSES, title: `step ${step}` });
  const scalars = ['tsne/kl_divergence', 'tsne/procrustes_disparity', 'eval/accuracy'];
  return [
    ...scalars.map((tag, i) => ({ step, summary: { value: [scalarValue(tag, Math.sin(frame + i))] } })),
    { step, summary: { value: [imageValue('embedding/scatter', png)] } },
  ];
}

/** The rewrite strategy: keeps the whole file in memory and PUTs all of it on every flush. */
class RewritingEventFile {
  private data: Buffer;
  bytesUploaded = 0;
  constructor(
    private readonly storage: S3Storage,
    private readonly key: string,
  ) {
    const seconds = Date.now() / 1000;
    this.data = frameRecord(encodeEvent({ wall_time: seconds, file_version: FILE_VERSION }));
  }
  async write(events: Event[]): Promise<void> {
    const records = events.map((event) => frameRecord(encodeEvent({ wall_time: Date.now() / 1000, ...event })));
    this.data = Buffer.concat([this.data, ...records]);
    await this.storage.write(this.key, this.data);
    this.bytesUploaded += this.data.length;
  }
}

async function main(): Promise<void> {
  const bucket = await createTestBucket();
  const logdir = bucket.url('logs');
  const tensorboard = await startTensorBoard(logdir, ['--samples_per_plugin', 'images=1000']);
  const served = new Served(tensorboard.url);
  try {
    const rewriteStorage = new S3Storage(parseS3Url(logdir));
    const rollStorage = new S3Storage(parseS3Url(logdir));
    const rewrite = new RewritingEventFile(rewriteStorage, `rewrite/${rollingEventFileName(Date.now() / 1000, 0)}`);
    const roll = new RollingEventWriter(rollStorage, 'roll');
    const random = new Random(7);
    console.log(`frames: ${frames}, one every ${everyMs} ms; TensorBoard reloads every 2 s; logdir ${logdir}`);
    console.log('frame  step  rewrite: bytes PUT  served after   roll: bytes PUT  served after');
    let rollBytesBefore = 0;
    let rewriteBytesBefore = 0;
    for (let frame = 0; frame < frames; frame++) {
      const started = Date.now();
      const events = frameEvents(frame, random);
      const step = events[0]!.step!;
      await rewrite.write(events);
      for (const event of events) roll.writeEvent(event);
      await roll.flush();
      const written = Date.now();
      const servedAfter = { rewrite: NaN, roll: NaN };
      while (Date.now() - written < 20_000 && (Number.isNaN(servedAfter.rewrite) || Number.isNaN(servedAfter.roll))) {
        for (const run of ['rewrite', 'roll'] as const) {
          if (!Number.isNaN(servedAfter[run])) continue;
          const steps = await served.scalarSteps(run, 'eval/accuracy').catch(() => [] as number[]);
          if (steps.includes(step)) servedAfter[run] = (Date.now() - written) / 1000;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      console.log(
        `${String(frame + 1).padStart(5)} ${String(step).padStart(5)}  ` +
          `${String(rewrite.bytesUploaded - rewriteBytesBefore).padStart(16)}  ` +
          `${servedAfter.rewrite.toFixed(1).padStart(10)} s  ` +
          `${String(roll.bytesUploaded - rollBytesBefore).padStart(15)}  ${servedAfter.roll.toFixed(1).padStart(10)} s`,
      );
      rewriteBytesBefore = rewrite.bytesUploaded;
      rollBytesBefore = roll.bytesUploaded;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - started))));
    }
    await roll.close();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const expected = Array.from({ length: frames }, (_, i) => (i + 1) * 100);
    for (const run of ['rewrite', 'roll']) {
      const scalarTags = ['tsne/kl_divergence', 'tsne/procrustes_disparity', 'eval/accuracy'];
      const scalarsOk = await Promise.all(
        scalarTags.map(async (tag) => (await served.scalarSteps(run, tag)).join() === expected.join()),
      );
      const images = await served.images(run, 'embedding/scatter');
      const objects = (await rewriteStorage.list(`${run}/`)).length;
      console.log(
        `${run}: every scalar point served: ${scalarsOk.every(Boolean)}; ` +
          `images served: ${images.length} of ${frames}; event objects: ${objects}`,
      );
    }
    console.log(
      `total bytes uploaded: rewrite ${rewrite.bytesUploaded}, roll ${roll.bytesUploaded}; ` +
        `requests: rewrite ${rewriteStorage.requests}, roll ${rollStorage.requests} (roll: conditional PUTs)`,
    );
    const warnings = tensorboard.output
      .join('')
      .split('\n')
      .filter((line) => /out of order|purg|error|warn/i.test(line));
    console.log(`TensorBoard warnings or errors: ${warnings.length === 0 ? 'none' : warnings.join(' | ')}`);
  } finally {
    await tensorboard.stop();
    await bucket.remove();
  }
}

await main();
