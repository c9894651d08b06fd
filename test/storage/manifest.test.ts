/**
 * A folder is complete only once its manifest exists, and a reader checks every file's size and
 * SHA-256: on a local folder and on the real Ceph gateway.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTransientError, isUserError } from '../../src/errors.ts';
import { LocalStorage, storageFor, type Storage } from '../../src/storage/index.ts';
import {
  MANIFEST_NAME,
  isComplete,
  readManifest,
  readWithManifest,
  sealWithManifest,
  writeWithManifest,
} from '../../src/storage/manifest.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket } from '../helpers/s3.ts';

async function localStorage(t: TestContext): Promise<Storage> {
  const dir = await mkdtemp(join(tmpdir(), 'manifest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return new LocalStorage(dir);
}

async function s3Storage(t: TestContext): Promise<Storage> {
  const bucket = await createTestBucket();
  t.after(() => bucket.remove());
  return storageFor(bucket.url('logs'));
}

/** A checkpoint's shape: tfjs topology, float32 weights, metadata (the bytes do not matter here). */
function checkpointFiles(): Map<string, Uint8Array> {
  return new Map<string, Uint8Array>([
    ['model.json', Buffer.from('{"format":"layers-model","weightsManifest":[]}')],
    ['weights.bin', new Uint8Array(new Float32Array(65536).map((_, i) => Math.sin(i)).buffer)],
    ['checkpoint.json', Buffer.from('{"step":100}')],
  ]);
}

const completeKinds: [string, (t: TestContext) => Promise<Storage>, string | false][] = [
  ['local', localStorage, false],
  ['s3', s3Storage, needs('s3')],
];

for (const [kind, make, skip] of completeKinds) {
  test(
    `${kind}: files written with a manifest read back whole and checked; without one they are not complete`,
    { skip },
    async (t) => {
      const storage = await make(t);
      const files = checkpointFiles();
      assert.ok(files.size >= 2);
      const folder = 'run/checkpoints/step-000100';
      // Files uploaded, manifest not yet: a reader must wait, not read.
      for (const [name, data] of files) await storage.write(`${folder}/${name}`, data);
      assert.equal(await isComplete(storage, folder), false);
      await assert.rejects(readWithManifest(storage, folder), (error) => {
        assert.ok(isTransientError(error));
        assert.match(error.message, /step-000100 is not complete yet \(no manifest\.json\)/);
        return true;
      });

      const manifest = await sealWithManifest(storage, folder, [...files.keys()]);
      assert.equal(await isComplete(storage, folder), true);
      assert.deepEqual(await readManifest(storage, folder), manifest);
      const read = await readWithManifest(storage, folder);
      assert.deepEqual([...read.keys()], [...files.keys()]);
      for (const [name, data] of files) assert.ok(Buffer.from(data).equals(read.get(name)!), name);

      const other = 'run/checkpoints/step-000200';
      await writeWithManifest(storage, other, files);
      assert.deepEqual((await readManifest(storage, other))?.files, manifest.files);
      const keys = (await storage.list(`${other}/`)).map((info) => info.key);
      assert.ok(keys.includes(`${other}/${MANIFEST_NAME}`));
    },
  );

  test(`${kind}: a damaged or missing file is one line naming it`, { skip }, async (t) => {
    const storage = await make(t);
    const files = new Map<string, Uint8Array>([
      ['weights.bin', Buffer.alloc(1000, 7)],
      ['model.json', Buffer.from('{}')],
    ]);
    await writeWithManifest(storage, 'ckpt', files);
    const damaged = Buffer.alloc(1000, 7);
    damaged[500] = 8; // one flipped byte, same size
    await storage.write('ckpt/weights.bin', damaged);
    await assert.rejects(readWithManifest(storage, 'ckpt'), (error) => {
      assert.ok(isUserError(error));
      assert.match(
        error.message,
        /ckpt\/weights\.bin: 1000 bytes with SHA-256 \w{12}…, but manifest\.json says 1000 bytes/,
      );
      assert.ok(!error.message.includes('\n'));
      return true;
    });
    await storage.write('ckpt/weights.bin', Buffer.alloc(1000, 7));
    await storage.delete('ckpt/model.json');
    await assert.rejects(readWithManifest(storage, 'ckpt'), /ckpt\/model\.json: named in manifest\.json but missing/);
    await storage.write('ckpt/manifest.json', '{"version":1,"files":[{"name":"../escape","size":1,"sha256":"x"}]}');
    await assert.rejects(readWithManifest(storage, 'ckpt'), /not a manifest of version 1/);
  });
}
