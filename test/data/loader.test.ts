import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../src/errors.ts';
import { loadCifar10, stratifiedSubset, OFFICIAL_CLASS_NAMES, type Cifar10 } from '../../src/data/index.ts';
import {
  META_TEXT,
  RECORD,
  batchFile,
  standardFiles,
  syntheticPixel,
  tarArchive,
  tarHeader,
  withTempDir,
  writeFiles,
} from './helpers.ts';
import { needs } from '../helpers/requirements.ts';

function quietLoad(source: string, lines: string[] = [], splits?: 'all' | 'test'): Promise<Cifar10> {
  return loadCifar10(source, { log: (line) => lines.push(line), splits });
}

/** Asserts `promise` rejects with a one-line UserError matching every pattern; returns the message. */
async function rejectsWithLine(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  let message = '';
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    message = error.message;
    return true;
  });
  assert.ok(!message.includes('\n'), `message is not one line: ${message}`);
  for (const pattern of patterns) assert.match(message, pattern);
  return message;
}

/** Checks the decoded standard synthetic set (see helpers.standardFiles). */
function assertStandardSet(data: Cifar10): void {
  assert.deepEqual(data.trainFiles, ['data_batch_1.bin', 'data_batch_3.bin']);
  assert.equal(data.train.count, 20);
  assert.equal(data.test.count, 10);
  assert.equal(data.train.images.length, 20 * 3072);
  assert.deepEqual([...data.train.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 9, 8, 7, 6, 5, 4, 3, 2]);
  assert.deepEqual([...data.test.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(data.classNames, ['plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
  // NHWC: image i, pixel p (row-major), channel c lives at i*3072 + p*3 + c; planar in the file.
  for (const [image, seedOffset, record] of [
    [0, 1, 0],
    [11, 1, 11],
    [12, 3, 0],
    [19, 3, 7],
  ]) {
    for (const pixel of [0, 1, 31, 32, 500, 1023]) {
      for (let channel = 0; channel < 3; channel++) {
        assert.equal(
          data.train.images[image * 3072 + pixel * 3 + channel],
          syntheticPixel(seedOffset, record, channel, pixel),
          `train image ${image} pixel ${pixel} channel ${channel}`,
        );
      }
    }
  }
  assert.equal(data.test.images[9 * 3072 + 1023 * 3 + 2], syntheticPixel(7, 9, 2, 1023));
}

test('reads a directory holding cifar-10-batches-bin/, whichever training batches are present', async () => {
  await withTempDir(async (dir) => {
    await writeFiles(dir, standardFiles());
    const lines: string[] = [];
    const data = await quietLoad(dir, lines);
    assertStandardSet(data);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /2 training batch files \(data_batch_1\.bin, data_batch_3\.bin, 20 images\)/);
    assert.match(lines[0], /test_batch\.bin \(10 images\)/);
  });
});

test(
  'reads .bin files placed directly in the directory; without batches.meta.txt uses the official names with a ' +
    'note',
  async () => {
    await withTempDir(async (dir) => {
      const files = standardFiles();
      delete files['batches.meta.txt'];
      await writeFiles(dir, files, '');
      const lines: string[] = [];
      const data = await quietLoad(dir, lines);
      assert.equal(data.train.count, 20);
      assert.deepEqual(data.classNames, OFFICIAL_CLASS_NAMES);
      assert.ok(
        lines.some((line) => /note: batches\.meta\.txt .*not found/.test(line)),
        lines.join('\n'),
      );
    });
  },
);

test('a batches.meta.txt without ten names falls back to the official names with a note', async () => {
  await withTempDir(async (dir) => {
    await writeFiles(dir, { ...standardFiles(), 'batches.meta.txt': 'a\nb\nc\n' });
    const lines: string[] = [];
    const data = await quietLoad(dir, lines);
    assert.deepEqual(data.classNames, OFFICIAL_CLASS_NAMES);
    assert.ok(lines.some((line) => /holds 3 class names, expected 10/.test(line)));
  });
});

test('reads a .tar.gz as a stream, giving exactly what the directory form gives', async () => {
  await withTempDir(async (dir) => {
    const archive = join(dir, 'cifar.tar.gz');
    const files = { 'readme.html': '<p>not wanted</p>', ...standardFiles() };
    await writeFile(archive, gzipSync(tarArchive(files)));
    const fromArchive = await quietLoad(archive);
    assertStandardSet(fromArchive);
    await writeFiles(join(dir, 'extracted'), files);
    assert.deepEqual(fromArchive, await quietLoad(join(dir, 'extracted')));
  });
});

test('splits: "test" skips the training batches', async () => {
  await withTempDir(async (dir) => {
    const archive = join(dir, 'cifar.tar.gz');
    await writeFile(archive, gzipSync(tarArchive(standardFiles())));
    const lines: string[] = [];
    const data = await quietLoad(archive, lines, 'test');
    assert.equal(data.train.count, 0);
    assert.deepEqual(data.trainFiles, []);
    assert.equal(data.test.count, 10);
    assert.match(lines[0], /training batches skipped/);
  });
});

test('reads archives made by the system tar, including GNU long names and a plain .tar', async (t) => {
  try {
    execFileSync('tar', ['--version'], { stdio: 'ignore' });
  } catch {
    t.skip('no tar command on this machine');
    return;
  }
  await withTempDir(async (dir) => {
    // A directory name over 100 characters forces GNU tar's long-name entries.
    const longDir = `${'very-long-folder-name-'.repeat(6)}end/cifar-10-batches-bin`;
    await writeFiles(join(dir, 'src'), standardFiles(), longDir);
    const gz = join(dir, 'made-by-tar.tar.gz');
    const plain = join(dir, 'made-by-tar.tar');
    execFileSync('tar', ['-czf', gz, '-C', join(dir, 'src'), '.']);
    execFileSync('tar', ['-cf', plain, '-C', join(dir, 'src'), '.']);
    assertStandardSet(await quietLoad(gz));
    assertStandardSet(await quietLoad(plain));
  });
});

test('a missing path is one line naming it and what to do', async () => {
  await rejectsWithLine(quietLoad('/nonexistent/cifar-here'), /\/nonexistent\/cifar-here/, /does not exist/, /--data/);
});

test('a truncated batch file names the file and its size', async () => {
  await withTempDir(async (dir) => {
    const truncated = batchFile([1, 2, 3]).subarray(0, 2 * RECORD + 100);
    await writeFiles(dir, { ...standardFiles(), 'data_batch_1.bin': truncated });
    await rejectsWithLine(
      quietLoad(dir),
      /data_batch_1\.bin/,
      /6,246 bytes/,
      /not a multiple of the record size 3073/,
      /fresh copy/,
    );
  });
});

test('a label over 9 names the file, the record and its byte offset', async () => {
  await withTempDir(async (dir) => {
    await writeFiles(dir, { ...standardFiles(), 'test_batch.bin': batchFile([0, 1, 2, 10, 4]) });
    await rejectsWithLine(quietLoad(dir), /test_batch\.bin/, /record 3 \(byte offset 9,219\) has label 10/);
  });
});

test('a label over 9 inside an archive names the archive entry', async () => {
  await withTempDir(async (dir) => {
    const archive = join(dir, 'bad-label.tar.gz');
    await writeFile(archive, gzipSync(tarArchive({ ...standardFiles(), 'data_batch_3.bin': batchFile([0, 255]) })));
    await rejectsWithLine(
      quietLoad(archive),
      /bad-label\.tar\.gz \(entry cifar-10-batches-bin\/data_batch_3\.bin\)/,
      /record 1 .* label 255/,
    );
  });
});

test('a missing test_batch.bin or missing training batches are one clear line', async () => {
  await withTempDir(async (dir) => {
    const files = standardFiles();
    delete files['test_batch.bin'];
    await writeFiles(join(dir, 'no-test'), files);
    await rejectsWithLine(quietLoad(join(dir, 'no-test')), /no-test has no test_batch\.bin/, /--data/);
    await writeFiles(join(dir, 'no-train'), { 'test_batch.bin': batchFile([1, 2]) });
    await rejectsWithLine(quietLoad(join(dir, 'no-train')), /no-train has no training batch \(data_batch_\*\.bin\)/);
    // …but the test set alone is enough when only the test split is asked for.
    assert.equal((await quietLoad(join(dir, 'no-train'), [], 'test')).test.count, 2);
  });
});

test('corrupt gzip data is one line naming the archive', async () => {
  await withTempDir(async (dir) => {
    const good = gzipSync(tarArchive(standardFiles()));

    const notGzip = join(dir, 'not-gzip.tar.gz');
    await writeFile(notGzip, Buffer.from('this is not an archive at all'));
    await rejectsWithLine(quietLoad(notGzip), /not-gzip\.tar\.gz is not a valid gzip file/, /download it again/);

    const cut = join(dir, 'cut.tar.gz');
    await writeFile(cut, good.subarray(0, Math.floor(good.length / 2)));
    await rejectsWithLine(quietLoad(cut), /cut\.tar\.gz is not a valid gzip file \(unexpected end of file/);

    const flipped = Buffer.from(good);
    for (let i = 200; i < flipped.length - 20; i += 997) flipped[i] ^= 0x5a;
    const damaged = join(dir, 'damaged.tar.gz');
    await writeFile(damaged, flipped);
    await rejectsWithLine(
      quietLoad(damaged),
      /damaged\.tar\.gz (is not a valid gzip file|: corrupt tar header|ends inside)/,
    );
  });
});

test('a tar that ends inside an entry, or has a damaged header, is one clear line', async () => {
  await withTempDir(async (dir) => {
    const tar = tarArchive(standardFiles());
    const truncated = join(dir, 'truncated-tar.tar.gz');
    await writeFile(truncated, gzipSync(tar.subarray(0, 512 + 5000)));
    await rejectsWithLine(
      quietLoad(truncated),
      /truncated-tar\.tar\.gz ends inside entry cifar-10-batches-bin\/data_batch_1\.bin/,
      /truncated/,
    );

    const badHeader = Buffer.from(tar);
    badHeader[10] ^= 0xff; // a byte of the first entry's name: its checksum no longer matches
    const corrupt = join(dir, 'bad-header.tar.gz');
    await writeFile(corrupt, gzipSync(badHeader));
    await rejectsWithLine(quietLoad(corrupt), /bad-header\.tar\.gz: corrupt tar header at uncompressed byte 0/);
  });
});

test('a tar entry claiming an impossible size is one clear line, before anything is allocated', async () => {
  await withTempDir(async (dir) => {
    // A header for a 300 MB test batch followed by only a few bytes: refused at the header.
    const tar = Buffer.concat([tarHeader('cifar-10-batches-bin/test_batch.bin', 300_000_000, '0'), Buffer.alloc(1024)]);
    const archive = join(dir, 'huge-entry.tar.gz');
    await writeFile(archive, gzipSync(tar));
    await rejectsWithLine(
      quietLoad(archive),
      /huge-entry\.tar\.gz \(entry cifar-10-batches-bin\/test_batch\.bin\) claims 300,000,000 bytes/,
      /download it again/,
    );
  });
});

test('the tar reader honours a GNU long-name entry', async () => {
  await withTempDir(async (dir) => {
    const longName = `${'x'.repeat(150)}/test_batch.bin`;
    const nameData = Buffer.from(`${longName}\0`);
    const test = batchFile([3, 4]);
    const tar = Buffer.concat([
      tarArchive({ 'data_batch_1.bin': batchFile([1]), 'batches.meta.txt': META_TEXT }).subarray(0, -1024),
      tarHeader('././@LongLink', nameData.length, 'L'),
      nameData,
      Buffer.alloc(512 - nameData.length),
      tarHeader('truncated-name', test.length, '0'),
      test,
      Buffer.alloc((512 - (test.length % 512)) % 512),
      Buffer.alloc(1024),
    ]);
    const archive = join(dir, 'long.tar.gz');
    await writeFile(archive, gzipSync(tar));
    const data = await quietLoad(archive);
    assert.deepEqual([...data.test.labels], [3, 4]);
  });
});

test('the real CIFAR-10 archive (CIFAR10_PATH) loads in full', { skip: needs('cifar') }, async () => {
  const source = process.env.CIFAR10_PATH!;
  const lines: string[] = [];
  const data = await quietLoad(source, lines);
  assert.equal(data.test.count, 10_000);
  const perClass = new Array<number>(10).fill(0);
  for (const label of data.test.labels) perClass[label]++;
  assert.deepEqual(perClass, new Array(10).fill(1000));
  assert.ok(data.trainFiles.length >= 1);
  assert.equal(data.train.count, 10_000 * data.trainFiles.length);
  if (data.trainFiles.length === 2) assert.equal(data.train.count, 20_000); // the shared copy
  assert.deepEqual(data.classNames, OFFICIAL_CLASS_NAMES);
  assert.equal(data.test.images.length, 10_000 * 3072);
  // Real photographs: every image has some spread of values (a layout bug would give stripes or zeros).
  let mean = 0;
  for (let i = 0; i < data.test.images.length; i += 101) mean += data.test.images[i];
  mean /= Math.ceil(data.test.images.length / 101);
  assert.ok(mean > 80 && mean < 170, `mean pixel ${mean}`);
  assert.match(lines[0], new RegExp(`${data.trainFiles.length} training batch files?`));
  // The watcher's fixed validation images: 100 of each class.
  const subset = stratifiedSubset(data.test.labels, 1000, 0);
  const subsetPerClass = new Array<number>(10).fill(0);
  for (const i of subset) subsetPerClass[data.test.labels[i]]++;
  assert.deepEqual(subsetPerClass, new Array(10).fill(100));
});
