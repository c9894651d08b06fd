import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SummaryWriter,
  UserError,
  lastStepsByTag,
  listRuns,
  readEventFile,
  readEventFileDetailed,
  readRunEvents,
  scalarOf,
} from '../../src/tensorboard/index.ts';
import { FIXTURE_EVENT_FILE, fixture } from './helpers/fixtures.ts';
import { needs } from '../helpers/requirements.ts';

function withTempDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-reader-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'a file cut at any byte yields the complete records before the cut, never an error',
  { skip: needs('shared') },
  withTempDir(async (dir) => {
    const whole = readFileSync(FIXTURE_EVENT_FILE);
    const ends = fixture.records.map((record) => record.offset + record.length);
    const path = join(dir, 'events.out.tfevents.cut');
    for (let cut = 0; cut <= whole.length; cut++) {
      writeFileSync(path, whole.subarray(0, cut));
      const read = await readEventFileDetailed(path);
      const complete = ends.filter((end) => end <= cut).length;
      assert.equal(read.events.length, complete, `cut at ${cut}`);
      assert.equal(read.end, complete === 0 ? 0 : ends[complete - 1]);
      assert.equal(read.partialTail, cut > read.end);
    }
  }),
);

test(
  'a flipped byte is reported with the file name and the byte offset of its record',
  { skip: needs('shared') },
  withTempDir(async (dir) => {
    const whole = readFileSync(FIXTURE_EVENT_FILE);
    const path = join(dir, 'events.out.tfevents.bad');
    const target = fixture.records[3]!;
    for (const [where, what] of [
      [2, 'length CRC mismatch'],
      [20, 'payload CRC mismatch'],
    ] as const) {
      const damaged = Buffer.from(whole);
      damaged[target.offset + where]! ^= 0x40;
      writeFileSync(path, damaged);
      await assert.rejects(readEventFile(path), (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(
          error.message,
          new RegExp(`${path.replace(/[.]/g, '\\.')}: ${what} in the record at byte offset ${target.offset};`),
        );
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    }
  }),
);

test(
  'a record with valid CRCs but a payload that is not an Event is corruption at its offset',
  { skip: needs('shared') },
  withTempDir(async (dir) => {
    const { frameRecord } = await import('../../src/tensorboard/record-writer.ts');
    const path = join(dir, 'events.out.tfevents.garbage');
    const first = readFileSync(FIXTURE_EVENT_FILE).subarray(0, fixture.records[0]!.length);
    writeFileSync(path, Buffer.concat([first, frameRecord(Buffer.from([0x0a, 0xff, 0xff, 0xff]))]));
    await assert.rejects(readEventFile(path), /the record at byte offset 88 is not an Event/);
  }),
);

test('a missing file is a one-line UserError', async () => {
  await assert.rejects(readEventFile('/nonexistent/events.out.tfevents.x'), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.message, /cannot read event file \/nonexistent\/events.out.tfevents.x: it does not exist/);
    return true;
  });
});

test('readEventFileDetailed from an offset returns only the later records', { skip: needs('shared') }, async () => {
  const all = await readEventFileDetailed(FIXTURE_EVENT_FILE);
  const tail = await readEventFileDetailed(FIXTURE_EVENT_FILE, all.offsets[8]!);
  assert.deepEqual(tail.offsets, all.offsets.slice(8));
  assert.deepEqual(tail.events, all.events.slice(8));
});

test(
  'a run with several event files is read in name order; runs are found at any depth',
  { skip: needs('shared') },
  withTempDir(async (dir) => {
    const run = join(dir, 'exp', 'run1');
    mkdirSync(run, { recursive: true });
    const later = new SummaryWriter(run, { now: () => 2000000000 });
    later.scalar('loss', 2, 20);
    await later.close();
    const earlier = new SummaryWriter(run, { now: () => 1000000000 });
    earlier.scalar('loss', 1, 10);
    await earlier.close();
    copyFileSync(FIXTURE_EVENT_FILE, join(dir, 'events.out.tfevents.1767225600.vm.10668.0'));
    mkdirSync(join(dir, '.hidden'));
    copyFileSync(FIXTURE_EVENT_FILE, join(dir, '.hidden', 'events.out.tfevents.1'));

    const runs = await listRuns(dir);
    assert.deepEqual(
      runs.map((r) => [r.name, r.eventFiles.length]),
      [
        ['.', 1],
        ['exp/run1', 2],
      ],
    );
    const events = await readRunEvents(run);
    const scalars = events.filter((e) => e.summary).map((e) => [e.step, scalarOf(e.summary!.value![0]!)]);
    assert.deepEqual(scalars, [
      [10, 1],
      [20, 2],
    ]);
    assert.deepEqual([...(await lastStepsByTag(run))], [['loss', 20]]);
    assert.deepEqual(await lastStepsByTag(join(dir, 'not-yet')), new Map());
  }),
);

test('lastStepsByTag reports the highest step per tag of the fixture run', { skip: needs('shared') }, async () => {
  const last = await lastStepsByTag(join(FIXTURE_EVENT_FILE, '..'));
  assert.deepEqual(Object.fromEntries(last), {
    'train/loss': 512,
    'validation/accuracy': 1024,
    'weights/conv1': 512,
    'weights/fc': 512,
    'embeddings/tsne': 512,
    'worst_samples/cat': 1024,
    'run/options': 0,
  });
});

test('listRuns on a missing directory is a UserError', async () => {
  await assert.rejects(
    listRuns('/nonexistent/logs'),
    /cannot read log directory \/nonexistent\/logs: it does not exist/,
  );
});
