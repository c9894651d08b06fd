/**
 * The storage interface's promises, checked the same way on a local folder and on the real Ceph
 * S3 gateway (a fresh bucket per test).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../../src/errors.ts';
import {
  LocalStorage,
  S3Storage,
  isObjectNotFound,
  parseS3Url,
  storageFor,
  type Storage,
} from '../../src/storage/index.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket } from '../helpers/s3.ts';

type Make = (t: TestContext) => Promise<Storage>;

async function localStorage(t: TestContext): Promise<Storage> {
  const dir = await mkdtemp(join(tmpdir(), 'storage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return new LocalStorage(dir);
}

async function s3Storage(t: TestContext): Promise<Storage> {
  const bucket = await createTestBucket();
  t.after(() => bucket.remove());
  return storageFor(bucket.url('runs/logs'));
}

const kinds: [string, Make, string | false][] = [
  ['local', localStorage, false],
  ['s3', s3Storage, needs('s3')],
];

for (const [kind, make, skip] of kinds) {
  test(`${kind}: whole objects are written, replaced, read and read in ranges`, { skip }, async (t) => {
    const storage = await make(t);
    await storage.write('run/a.txt', 'first version');
    assert.equal((await storage.read('run/a.txt')).toString(), 'first version');
    await storage.write('run/a.txt', Buffer.from('0123456789'));
    assert.equal((await storage.read('run/a.txt')).toString(), '0123456789');
    assert.equal((await storage.readRange('run/a.txt', 2, 5)).toString(), '234');
    assert.equal((await storage.readRange('run/a.txt', 7)).toString(), '789');
    assert.equal((await storage.readRange('run/a.txt', 10)).length, 0);
    assert.equal((await storage.readRange('run/a.txt', 12)).length, 0);
    await assert.rejects(storage.read('run/missing.txt'), (error) => isObjectNotFound(error));
    assert.equal(await storage.stat('run/missing.txt'), undefined);
    assert.equal(await storage.exists('run/a.txt'), true);
    assert.equal((await storage.stat('run/a.txt'))?.size, 10);
  });

  test(`${kind}: a listing by prefix names every object below it with its size, in key order`, { skip }, async (t) => {
    const storage = await make(t);
    await storage.write('run_b/events/2.bin', 'bb');
    await storage.write('run_a/frames/0001.tsv', 'x\ty\n');
    await storage.write('run_a/state.json', '{}');
    await storage.write('run_ab/other', '1');
    const all = await storage.list('');
    assert.deepEqual(
      all.map((info) => info.key),
      ['run_a/frames/0001.tsv', 'run_a/state.json', 'run_ab/other', 'run_b/events/2.bin'],
    );
    assert.deepEqual(
      (await storage.list('run_a/')).map((info) => [info.key, info.size]),
      [
        ['run_a/frames/0001.tsv', 4],
        ['run_a/state.json', 2],
      ],
    );
    assert.deepEqual(
      (await storage.list('run_a')).map((info) => info.key),
      ['run_a/frames/0001.tsv', 'run_a/state.json', 'run_ab/other'],
    );
    assert.deepEqual(await storage.list('nothing/'), []);
    for (const info of all) assert.ok(info.etag.length > 0 && info.modified.getTime() > 0);
  });

  test(
    `${kind}: a conditional create happens once; a conditional replace only over what was seen`,
    { skip },
    async (t) => {
      const storage = await make(t);
      assert.equal(await storage.createIfAbsent('run/lease', 'mine'), true);
      assert.equal(await storage.createIfAbsent('run/lease', 'yours'), false);
      assert.equal((await storage.read('run/lease')).toString(), 'mine');
      const seen = (await storage.stat('run/lease'))!;
      assert.equal(await storage.replaceIfUnchanged('run/lease', 'renewed', seen.etag), true);
      assert.equal(await storage.replaceIfUnchanged('run/lease', 'stale', seen.etag), false);
      assert.equal((await storage.read('run/lease')).toString(), 'renewed');
      // Both racers saw the same version: exactly one of them wins.
      const current = (await storage.stat('run/lease'))!;
      const results = await Promise.all([
        storage.replaceIfUnchanged('run/lease', 'left', current.etag),
        storage.replaceIfUnchanged('run/lease', 'right', current.etag),
      ]);
      assert.equal(results.filter(Boolean).length, 1);
      await storage.delete('run/lease');
      await storage.delete('run/lease');
      assert.equal(await storage.exists('run/lease'), false);
      assert.equal(await storage.replaceIfUnchanged('run/lease', 'gone', current.etag), false);
    },
  );

  test(`${kind}: names that could leave the log directory are refused with one line`, { skip }, async (t) => {
    const storage = await make(t);
    for (const key of ['../outside', 'run/../../x', '', 'a//b', './a']) {
      await assert.rejects(
        storage.write(key, 'x'),
        (error) => isUserError(error) && /invalid object name/.test(error.message),
      );
    }
  });
}

test('local: half-written temporary files are not listed, and a conditional create leaves none behind', async (t) => {
  const storage = await localStorage(t);
  await writeFile(join(storage.root, '.state.json.123.0badc0de.tmp'), 'half');
  await storage.write('state.json', '{}');
  await storage.createIfAbsent('lease', 'x');
  await storage.createIfAbsent('lease', 'y');
  assert.deepEqual(
    (await storage.list('')).map((info) => info.key),
    ['lease', 'state.json'],
  );
  assert.deepEqual((await readdir(storage.root)).sort(), ['.state.json.123.0badc0de.tmp', 'lease', 'state.json']);
});

test('s3:// addresses are parsed into bucket and prefix; bad ones are one line', () => {
  assert.deepEqual(parseS3Url('s3://my-bucket/runs/exp1/'), { bucket: 'my-bucket', prefix: 'runs/exp1' });
  assert.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
  assert.ok(storageFor('/tmp/x') instanceof LocalStorage);
  assert.ok(storageFor('s3://abc/x') instanceof S3Storage);
  for (const bad of ['s3://', 's3://ab/x', 's3://Upper/x', 's3://bucket/a//b', 's3://bucket/../x']) {
    assert.throws(
      () => parseS3Url(bad),
      (error) => isUserError(error) && !error.message.includes('\n'),
    );
  }
});
