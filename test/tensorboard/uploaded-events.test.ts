/**
 * The trainer's summary writer for object storage (a SummaryWriter over UploadedEvents): points
 * are uploaded as rolled event files when asked (and what is left on close), and a failed upload
 * reaches the caller exactly once, so an error path is never covered by a second error from
 * closing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.ts';
import { LocalStorage } from '../../src/storage/local.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { decodeEventBytes } from '../../src/tensorboard/event-reader.ts';
import { scalarOf, textOf } from '../../src/tensorboard/index.ts';
import { SummaryWriter } from '../../src/tensorboard/summary-writer.ts';
import { UploadedEvents, type UploadedEventsOptions } from '../../src/tensorboard/uploaded-events.ts';

async function withStorage(fn: (storage: LocalStorage) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'et-rolling-summary-'));
  try {
    await fn(new LocalStorage(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A summary writer for `run` in `storage`, and its events' uploader. */
function uploadingWriter(storage: Storage, options: UploadedEventsOptions = {}) {
  const events = new UploadedEvents(storage, 'run', options);
  return { events, writer: new SummaryWriter(events) };
}

async function eventFiles(storage: Storage): Promise<{ key: string; points: string[] }[]> {
  const files = [];
  for (const { key } of await storage.list('run/')) {
    const points = [];
    for (const event of decodeEventBytes(await storage.read(key), key)) {
      for (const value of event.summary?.value ?? []) {
        points.push(`${value.tag}@${event.step}=${scalarOf(value) ?? textOf(value)}`);
      }
    }
    files.push({ key, points });
  }
  return files;
}

test('flushNow uploads what is queued as one new event file; close uploads the rest', async () => {
  await withStorage(async (storage) => {
    const { events, writer } = uploadingWriter(storage, { flushSeconds: 3600 });
    writer.text('run/options', 'hello', 0);
    writer.scalar('train/loss', 2, 16);
    await events.flushNow();
    writer.scalar('train/loss', 1.5, 32);
    writer.flush(); // an hour from the last upload: nothing now
    await writer.close();
    await writer.close();
    const files = await eventFiles(storage);
    assert.deepEqual(
      files.map((file) => file.points),
      [['run/options@0=hello', 'train/loss@16=2'], ['train/loss@32=1.5']],
    );
    assert.ok(files[0]!.key < files[1]!.key, 'names sort in write order');
  });
});

/** A storage that refuses every write with one line. */
function refusing(storage: Storage): Storage {
  const refused = Object.create(storage) as Storage;
  refused.createIfAbsent = () => Promise.reject(new UserError('cannot create s3://b/run/x: access denied'));
  return refused;
}

test('a failed upload is thrown once: by flushNow, and close then stays quiet', async () => {
  await withStorage(async (storage) => {
    const { events, writer } = uploadingWriter(refusing(storage));
    writer.scalar('train/loss', 2, 16); // the first point goes up at once, in the background
    await assert.rejects(events.flushNow(), /access denied/);
    await assert.rejects(events.flushNow(), /access denied/);
    await writer.close();
  });
});

test('a failed upload nobody was told of is thrown by close', async () => {
  await withStorage(async (storage) => {
    const { writer } = uploadingWriter(refusing(storage), { flushSeconds: 3600 });
    writer.scalar('train/loss', 2, 16);
    await assert.rejects(writer.close(), /access denied/);
    await writer.close();
  });
});

test('an abandoned writer uploads nothing more, and close is quiet', async () => {
  await withStorage(async (storage) => {
    const { events, writer } = uploadingWriter(storage, { flushSeconds: 3600 });
    writer.scalar('train/loss', 2, 16);
    await events.flushNow();
    writer.scalar('train/loss', 1, 32);
    events.abandon(new Error('the checkpoint upload failed'));
    await writer.close();
    assert.deepEqual(
      (await eventFiles(storage)).map((file) => file.points),
      [['train/loss@16=2']],
    );
  });
});
