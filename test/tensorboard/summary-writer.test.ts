import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SummaryWriter,
  UserError,
  decodePng,
  encodePng,
  histogramOf,
  imagesOf,
  pluginOf,
  readEventFile,
  scalarOf,
  summaryFileWriter,
  textOf,
  type ReadEvent,
} from '../../src/tensorboard/index.ts';

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tb-writer-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `body` with console.warn captured; returns the warnings. */
async function captureWarnings(body: () => void | Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
  try {
    await body();
  } finally {
    console.warn = original;
  }
  return warnings;
}

function values(events: ReadEvent[]) {
  return events.filter((e) => e.summary).map((e) => ({ step: e.step, value: e.summary!.value![0]! }));
}

test('scalars, histograms, images and text round-trip through writer and reader', () =>
  withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir);
    writer.scalar('train/loss', 2.5, 0);
    writer.scalar('train/loss', 1.25, 256);
    const samples = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3);
    writer.histogram('weights/fc', samples, 256, 10);
    const rgba = Uint8Array.from({ length: 5 * 3 * 4 }, (_, i) => (i * 37) % 256);
    writer.image('frames/tsne', { rgba, width: 5, height: 3 }, 256, {
      displayName: 'Embedding',
      description: 'step 256',
    });
    const png = encodePng(
      Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 20),
      2,
      2,
      3,
    );
    writer.image('frames/raw', png, 512);
    writer.text('run/options', '| lr | 0.001 |\n|---|---|', 0);
    await writer.close();

    const events = await readEventFile(writer.events.path);
    assert.equal(events[0]!.file_version, 'brain.Event:2');
    const read = values(events);
    assert.deepEqual(
      read.map((r) => [r.value.tag, r.step, pluginOf(r.value)]),
      [
        ['train/loss', 0, 'scalars'],
        ['train/loss', 256, 'scalars'],
        ['weights/fc', 256, 'histograms'],
        ['frames/tsne', 256, 'images'],
        ['frames/raw', 512, 'images'],
        ['run/options', 0, 'text'],
      ],
    );
    assert.deepEqual([scalarOf(read[0]!.value), scalarOf(read[1]!.value)], [2.5, 1.25]);
    const buckets = histogramOf(read[2]!.value)!;
    assert.equal(buckets.length, 10);
    assert.equal(
      buckets.reduce((n, b) => n + b.count, 0),
      1000,
    );
    assert.equal(buckets[0]!.left, Math.min(...samples));
    assert.equal(buckets[9]!.right, Math.max(...samples));
    for (const v of samples) {
      const home = buckets.filter((b, i) => v >= b.left && (v < b.right || (i === 9 && v === b.right)));
      assert.equal(home.length, 1);
    }
    const [image] = imagesOf(read[3]!.value);
    assert.deepEqual([image!.width, image!.height], [5, 3]);
    assert.deepEqual(decodePng(image!.png).pixels, rgba);
    assert.equal(read[3]!.value.metadata?.display_name, 'Embedding');
    assert.equal(read[3]!.value.metadata?.summary_description, 'step 256');
    assert.deepEqual(Buffer.from(imagesOf(read[4]!.value)[0]!.png), png);
    assert.equal(textOf(read[5]!.value), '| lr | 0.001 |\n|---|---|');
    // Wall times come from the clock, in seconds.
    assert.ok(Math.abs(events[1]!.wall_time - Date.now() / 1000) < 60);
  }));

test('event files are named events.out.tfevents.<10-digit seconds>.<host>... with the suffix last', () =>
  withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir, { filenameSuffix: 'v2', now: () => 123 });
    assert.match(writer.events.path, /events\.out\.tfevents\.0000000123\.[^/]+\.\d+\.\d+\.v2$/);
    const other = new SummaryWriter(dir, { now: () => 123 });
    assert.notEqual(other.events.path, writer.events.path);
    await writer.close();
    await other.close();
  }));

test('each event is in the file as soon as it is written; with flushEachEvent false only after flush()', () =>
  withTempDir(async (dir) => {
    const eager = new SummaryWriter(join(dir, 'eager'));
    eager.scalar('a', 1, 1);
    assert.equal((await readEventFile(eager.events.path)).length, 2);
    const lazy = new SummaryWriter(join(dir, 'lazy'), { flushEachEvent: false });
    lazy.scalar('a', 1, 1);
    lazy.scalar('a', 2, 2);
    assert.equal((await readEventFile(lazy.events.path)).length, 1, 'only the file_version record before flush');
    lazy.flush();
    assert.equal((await readEventFile(lazy.events.path)).length, 3);
    // Without flush(), buffered events reach the file within flushMillis.
    const timed = new SummaryWriter(join(dir, 'timed'), { flushEachEvent: false, flushMillis: 20 });
    timed.scalar('a', 1, 1);
    assert.equal((await readEventFile(timed.events.path)).length, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await readEventFile(timed.events.path)).length, 2);
    await eager.close();
    await lazy.close();
    await timed.close();
  }));

test('buffered events are written when the process exits without close()', () =>
  withTempDir(async (dir) => {
    const tensorboard = new URL('../../src/tensorboard/index.ts', import.meta.url).href;
    const script = `
      import { summaryFileWriter } from ${JSON.stringify(tensorboard)};
      const writer = summaryFileWriter(${JSON.stringify(dir)}, { flushEachEvent: false });
      for (let i = 0; i < 5; i++) writer.scalar('x', i, i);
      console.log(writer.events.path);`;
    const path = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    }).trim();
    assert.equal((await readEventFile(path)).length, 6);
  }));

test('summaryFileWriter returns one cached writer per directory until it is closed', () =>
  withTempDir(async (dir) => {
    const a = summaryFileWriter(dir);
    assert.equal(summaryFileWriter(join(dir, '.')), a);
    assert.notEqual(summaryFileWriter(join(dir, 'other')), a);
    await a.close();
    await summaryFileWriter(join(dir, 'other')).close();
    const b = summaryFileWriter(dir);
    assert.notEqual(b, a);
    await b.close();
    assert.throws(() => a.scalar('x', 1, 1), /closed/);
  }));

test('a step that does not increase for a tag is written but warned about once', () =>
  withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir);
    const warnings = await captureWarnings(() => {
      writer.scalar('loss', 1, 100);
      writer.scalar('loss', 2, 50);
      writer.scalar('loss', 3, 50);
      writer.scalar('acc', 1, 10); // another tag is independent
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /tag 'loss' .*step 50 comes after step 100/);
    assert.doesNotMatch(warnings[0]!, /\n/);
    await writer.close();
    assert.deepEqual(
      values(await readEventFile(writer.events.path)).map((v) => v.step),
      [100, 50, 50, 10],
    );
  }));

test('NaN and Infinity scalars are written as is with one warning; non-finite histogram values are left out', () =>
  withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir);
    const warnings = await captureWarnings(() => {
      writer.scalar('loss', NaN, 1);
      writer.scalar('loss', Infinity, 2);
      writer.scalar('loss', -Infinity, 3);
      writer.histogram('w', [1, 2, NaN, Infinity, 3], 1);
    });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /scalar 'loss' is NaN at step 1; written as is/);
    assert.match(warnings[1]!, /histogram 'w' at step 1: left out 2 of 5 values/);
    await writer.close();
    const read = values(await readEventFile(writer.events.path));
    assert.deepEqual(
      read.slice(0, 3).map((v) => scalarOf(v.value)),
      [NaN, Infinity, -Infinity],
    );
    assert.equal(
      histogramOf(read[3]!.value)!.reduce((n, b) => n + b.count, 0),
      3,
    );
  }));

test('histograms of constant and of empty data', () =>
  withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir);
    writer.histogram('constant', [4, 4, 4], 1);
    writer.histogram('empty', [], 1);
    await writer.close();
    const read = values(await readEventFile(writer.events.path));
    assert.deepEqual(histogramOf(read[0]!.value), [{ left: 3.5, right: 4.5, count: 3 }]);
    assert.deepEqual(histogramOf(read[1]!.value), []);
  }));

test('bytes that are not a PNG and RGBA of the wrong size are refused with one line', () =>
  withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir);
    assert.throws(
      () => writer.image('x', Buffer.from('GIF89a not a png at all, really not'), 1),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /image 'x': the bytes are not a PNG/);
        return true;
      },
    );
    assert.throws(
      () => writer.image('x', { rgba: new Uint8Array(10), width: 2, height: 2 }, 1),
      /got 10 bytes for 2×2 RGBA \(needs 16\)/,
    );
    await writer.close();
    assert.equal((await readEventFile(writer.events.path)).length, 1, 'nothing written for refused images');
  }));

test('a log directory that cannot be created or written is a UserError', () =>
  withTempDir(async (dir) => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    assert.throws(
      () => new SummaryWriter(join(file, 'run')),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, /cannot create log directory .*a-file\/run: a part of the path is a file/);
        return true;
      },
    );
    // Root may write anywhere, so the permission case only runs as another user.
    if (process.getuid?.() !== 0) {
      const readOnly = join(dir, 'read-only');
      mkdirSync(readOnly, { mode: 0o555 });
      assert.throws(() => new SummaryWriter(readOnly), /cannot create event file .*read-only.*: permission denied/);
    }
  }));

test('steps must be non-negative integers', () =>
  withTempDir(async (dir) => {
    const writer = new SummaryWriter(dir);
    assert.throws(() => writer.scalar('x', 1, -1), RangeError);
    assert.throws(() => writer.scalar('x', 1, 1.5), RangeError);
    await writer.close();
  }));
