import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/inspect.ts';
import { SummaryWriter, UserError, tensorboardCommand, type RunSummary } from '../../src/tensorboard/index.ts';
import { FIXTURE_DIR, FIXTURE_EVENT_FILE, FIXTURE_LOGDIR, fixture } from './helpers/fixtures.ts';
import { needs } from '../helpers/requirements.ts';
import { collectOutput } from '../../src/cli/output.ts';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const output = collectOutput();
  const code = await run(argv, output);
  return { code, out: output.lines.join('\n') };
}

test(
  'inspect lists the fixture run with each tag, its dashboard, steps and latest value',
  { skip: needs('shared') },
  async () => {
    const { code, out } = await capture([FIXTURE_LOGDIR]);
    assert.equal(code, 0);
    assert.match(out, /run 'run_a' {2}\(1 event file, 11 events, last write 2026-01-01 00:00:12 UTC\)/);
    const row = (plugin: string, tag: string, points: number, steps: string, latest: string) =>
      assert.match(
        out,
        new RegExp(
          `\\n  ${plugin} +${tag.replace(/[()]/g, '\\$&')} +${points} +${steps} +${latest.replace(/[()[\]]/g, '\\$&')}`,
        ),
        `${tag}\n${out}`,
      );
    row('scalars', 'train/loss', 3, '0 … 512', '1.5  (min 1.5, max 2.3026)');
    row('scalars', 'validation/accuracy', 2, '512 … 1024', '0.5  (min 0.25, max 0.5)');
    row('histograms', 'weights/fc', 1, '512', '4 buckets, 4 values in [-1, 1]');
    row('images', 'embeddings/tsne', 1, '512', '8×6 PNG');
    row('images', 'worst_samples/cat ("worst samples")', 1, '1024', '4×3 PNG');
    row('text', 'run/options', 1, '0', '"\\*\\*lr\\*\\* = 0.001');
  },
);

test(
  'inspect --json gives one object per run; a corrupt file is named with its offset and exits 1',
  { skip: needs('shared') },
  async () => {
    const logdir = mkdtempSync(join(tmpdir(), 'tb-inspect-'));
    try {
      mkdirSync(join(logdir, 'bad'));
      const damaged = readFileSync(FIXTURE_EVENT_FILE);
      damaged[fixture.records[2]!.offset + 30]! ^= 1;
      writeFileSync(join(logdir, 'bad', 'events.out.tfevents.1.x'), damaged);
      const good = new SummaryWriter(join(logdir, 'good'));
      for (let i = 0; i < 12; i++) good.image('frames', { rgba: new Uint8Array(4), width: 1, height: 1 }, i * 10);
      good.scalar('loss', 1, 5);
      good.scalar('loss', 0.5, 3);
      await good.close();
      mkdirSync(join(logdir, 'good', 'embeddings'));
      copyFileSync(
        join(FIXTURE_DIR, 'projector', 'projector_config.pbtxt'),
        join(logdir, 'good', 'projector_config.pbtxt'),
      );

      const json = await capture([logdir, '--json']);
      assert.equal(json.code, 1);
      const runs = json.out.split('\n').map((line) => JSON.parse(line) as RunSummary);
      assert.deepEqual(
        runs.map((r) => r.name),
        ['bad', 'good'],
      );
      assert.equal(runs[0]!.errors.length, 1);
      assert.match(
        runs[0]!.errors[0]!,
        new RegExp(`payload CRC mismatch in the record at byte offset ${fixture.records[2]!.offset}`),
      );
      const frames = runs[1]!.tags.find((t) => t.tag === 'frames')!;
      assert.deepEqual([frames.plugin, frames.points, frames.firstStep, frames.lastStep], ['images', 12, 0, 110]);
      assert.equal(runs[1]!.tags.find((t) => t.tag === 'loss')!.stepsOutOfOrder, 1);
      assert.deepEqual(runs[1]!.projector!.embeddings[0]!.missingFiles, ['tensors.tsv', 'metadata.tsv', 'sprite.png']);

      const text = await capture([logdir]);
      assert.equal(text.code, 1);
      assert.match(text.out, /! corrupt event file .*events\.out\.tfevents\.1\.x: payload CRC mismatch/);
      assert.match(text.out, /! tag 'loss': 1 point\(s\) whose step does not increase/);
      assert.match(
        text.out,
        /! projector entry 'embedding:step-000000512' names missing files: tensors.tsv, metadata.tsv, sprite.png/,
      );
      assert.ok(text.out.includes(tensorboardCommand(logdir)), text.out);

      const only = await capture([logdir, '--run', 'good']);
      assert.doesNotMatch(only.out, /run 'bad'/);
      await assert.rejects(capture([logdir, '--run', 'nope']), /no run 'nope' in .*; runs: bad, good/);
    } finally {
      rmSync(logdir, { recursive: true, force: true });
    }
  },
);

test('inspect refuses a missing directory and wrong arguments with one line', async () => {
  await assert.rejects(
    capture(['/nonexistent/logs']),
    (error: unknown) => error instanceof UserError && /does not exist/.test(error.message),
  );
  await assert.rejects(capture([]), /expected one log directory, got 0/);
  await assert.rejects(capture(['a', '--bogus']), /inspect: .*bogus/);
});
