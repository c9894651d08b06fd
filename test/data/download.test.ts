import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../src/errors.ts';
import {
  DEFAULT_CACHE_DIR,
  cachedArchivePath,
  ensureCifarSource,
  loadCifar10,
  resolveCifarSource,
  type DownloadOptions,
} from '../../src/data/index.ts';
import { standardFiles, tarArchive, withTempDir } from './helpers.ts';

const archive = gzipSync(tarArchive(standardFiles()));
const archiveMd5 = createHash('md5').update(archive).digest('hex');
let server: Server;
let base = '';
let requests = 0;

before(async () => {
  server = createServer((request, response) => {
    requests++;
    if (request.url === '/cifar-10-binary.tar.gz') {
      response.writeHead(200, { 'content-length': archive.length });
      // Several chunks, so the progress bar has something to show.
      for (let at = 0; at < archive.length; at += 4096) response.write(archive.subarray(at, at + 4096));
      response.end();
    } else if (request.url === '/broken-off') {
      response.writeHead(200, { 'content-length': archive.length });
      response.write(archive.subarray(0, 1000), () => response.destroy());
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not here');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((done) => server.close(() => done())));

/** Collects what would go to stderr. */
function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

async function assertOneLineUserError(promise: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), error.message);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

test('resolveCifarSource: --data, then CIFAR10_PATH, then the cache under the package root', () => {
  const env = { CIFAR10_PATH: '/from/env.tar.gz' };
  assert.equal(resolveCifarSource('/from/flag', env), '/from/flag');
  assert.equal(resolveCifarSource('relative/dir', env), resolve('relative/dir'));
  assert.equal(resolveCifarSource(undefined, env), '/from/env.tar.gz');
  assert.equal(resolveCifarSource('', env), '/from/env.tar.gz');
  assert.equal(resolveCifarSource(undefined, {}), cachedArchivePath());
  const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
  assert.equal(DEFAULT_CACHE_DIR, join(packageRoot, '.cache', 'cifar10'));
  assert.equal(cachedArchivePath(), join(packageRoot, '.cache', 'cifar10', 'cifar-10-binary.tar.gz'));
});

test('downloads into the cache once, with progress and MD5 check, then loads from it', async () => {
  await withTempDir(async (cacheDir) => {
    const progress = sink();
    const download: DownloadOptions = {
      url: `${base}/cifar-10-binary.tar.gz`,
      md5: archiveMd5,
      progress: progress.stream,
    };
    const before = requests;
    const source = await ensureCifarSource(undefined, { env: {}, cacheDir, download });
    assert.equal(source, join(cacheDir, 'cifar-10-binary.tar.gz'));
    assert.equal(requests, before + 1);
    assert.deepEqual(await readFile(source), archive);
    assert.deepEqual(await readdir(cacheDir), ['cifar-10-binary.tar.gz'], 'no temporary file is left behind');
    assert.match(progress.text(), /^downloading http:\/\/127\.0\.0\.1:\d+\/cifar-10-binary\.tar\.gz/);
    assert.match(progress.text(), /100% 0\.\d MB of 0\.\d MB/);

    // Already there: no second download.
    await ensureCifarSource(undefined, { env: {}, cacheDir, download });
    assert.equal(requests, before + 1);
    const data = await loadCifar10(source, { log: () => undefined, cacheDir });
    assert.equal(data.test.count, 10);
  });
});

test('a bundled copy beside the checkout is used before any download, the cache still first', async () => {
  await withTempDir(async (cacheDir) => {
    const bundled = join(cacheDir, 'bundled.tar.gz');
    await writeFile(bundled, archive);
    const download: DownloadOptions = { url: `${base}/cifar-10-binary.tar.gz`, md5: archiveMd5, progress: false };
    const before = requests;
    assert.equal(await ensureCifarSource(undefined, { env: {}, cacheDir, download, bundled }), bundled);
    assert.equal(requests, before, 'nothing was downloaded');
    assert.equal(await ensureCifarSource('/from/flag', { env: {}, cacheDir, download, bundled }), '/from/flag');
    await writeFile(join(cacheDir, 'cifar-10-binary.tar.gz'), archive);
    assert.equal(
      await ensureCifarSource(undefined, { env: {}, cacheDir, download, bundled }),
      join(cacheDir, 'cifar-10-binary.tar.gz'),
    );
  });
});

test('loadCifar10 downloads by itself when given the missing cache path', async () => {
  await withTempDir(async (cacheDir) => {
    const download: DownloadOptions = { url: `${base}/cifar-10-binary.tar.gz`, md5: archiveMd5, progress: false };
    const data = await loadCifar10(cachedArchivePath(cacheDir), { log: () => undefined, cacheDir, download });
    assert.equal(data.train.count, 20);
  });
});

test('a failed download is one clear line and leaves nothing in the cache', async () => {
  await withTempDir(async (cacheDir) => {
    const attempt = (download: DownloadOptions) =>
      ensureCifarSource(undefined, { env: {}, cacheDir, download: { progress: false, ...download } });

    await assertOneLineUserError(
      attempt({ url: `${base}/missing.tar.gz` }),
      /cannot download http:\/\/127\.0\.0\.1:\d+\/missing\.tar\.gz/,
      /HTTP 404/,
      /--data/,
    );

    // A port nobody listens on: take one from a server that is then closed.
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    await assertOneLineUserError(
      attempt({ url: `http://127.0.0.1:${port}/x.tar.gz` }),
      /cannot download/,
      /ECONNREFUSED/,
      /CIFAR10_PATH/,
    );

    await assertOneLineUserError(
      attempt({ url: `${base}/cifar-10-binary.tar.gz`, md5: 'c32a1d4ab5d03f1284b67883e8d87530' }),
      new RegExp(`its MD5 is ${archiveMd5}, expected c32a1d4ab5d03f1284b67883e8d87530`),
      /not kept/,
    );

    await assertOneLineUserError(
      attempt({ url: `${base}/broken-off`, md5: archiveMd5 }),
      /broken-off/,
      /(broke off after|incomplete)/,
    );

    assert.deepEqual(await readdir(cacheDir), [], 'nothing, not even a temporary file, is left in the cache');
  });
});

test('a damaged copy in the cache says to delete it so it is downloaded afresh', async () => {
  await withTempDir(async (cacheDir) => {
    await writeFile(cachedArchivePath(cacheDir), archive.subarray(0, 100));
    await assertOneLineUserError(
      loadCifar10(cachedArchivePath(cacheDir), { log: () => undefined, cacheDir, download: { progress: false } }),
      /is not a valid gzip file/,
      /delete it and run again to download it afresh/,
    );
  });
});
