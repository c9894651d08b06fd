/**
 * `view --logdir s3://bucket/prefix` on the real Ceph gateway: a chain written on disk by the
 * page writer, uploaded into a bucket, is listed and served as from disk (byte for byte, with
 * the object's ETag), refused where disk is refused, and a page that polls sees a new frame once
 * its chunk and the rewritten index are uploaded. A missing bucket and an endpoint that is away
 * are one line each. In chromium, an open page shows a frame uploaded after it was opened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { isUserError } from '../../src/errors.ts';
import { run as view } from '../../src/cli/view.ts';
import { S3Storage, parseS3Url, s3ClientConfig, storageFor, type Storage } from '../../src/storage/index.ts';
import { writeSprite } from '../../src/tensorboard/projector.ts';
import { PAGE_HOOKS_ENV } from '../../src/view/bundle.ts';
import { TimelapsePage } from '../../src/view/page.ts';
import { createViewServer } from '../../src/view/server.ts';
import { startCli, until } from '../helpers/cli.ts';
import { rawGet } from './helpers/http.ts';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, needs } from '../helpers/requirements.ts';
import { createTestBucket } from '../helpers/s3.ts';

// The functions given to page.evaluate run in the page: the page's test hook, as far as used here.
declare const window: { timelapse?: { ready: boolean; frameCount: number; steps: number[] }; marker?: string };

// The pages written here have the test hook (window.timelapse) compiled in.
process.env[PAGE_HOOKS_ENV] = '1';

const get = rawGet;

async function serve(t: { after(fn: () => Promise<void>): void }, logdir: string | Storage): Promise<number> {
  const server = await createViewServer(logdir);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

const COUNT = 6;
const record = (step: number) => ({ step, accuracy: 0.5, neighborhoodHit: 0.5, knnPreservation: 0.5, displacement: 0 });
const positions = (step: number) => Float64Array.from({ length: 2 * COUNT }, (_, i) => i * step);

/** Every file under `dir`, as '/'-separated keys relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'));
}

async function upload(storage: Storage, logdir: string, keys: readonly string[]): Promise<void> {
  for (const key of keys) await storage.write(key, await readFile(join(logdir, ...key.split('/'))));
}

/** The page, its first frame's data and the sprite of chain `embeddings`, as the watcher writes them. */
async function writeChain(embeddings: string): Promise<TimelapsePage> {
  const tiles = new Uint8Array(COUNT * 8 * 8 * 3).map((_, i) => i % 251);
  const page = new TimelapsePage({
    run: 'run-a',
    embeddingsDir: embeddings,
    points: {
      labels: Uint8Array.from({ length: COUNT }, (_, i) => i % 2),
      testIndices: Array.from({ length: COUNT }, (_, i) => i),
      classNames: ['a', 'b'],
      count: COUNT,
      images: tiles,
      tile: 8,
    },
    frameFile: () => join(embeddings, 'none.tsv'),
  });
  await page.update([record(5)], { step: 5, positions: positions(5) });
  await mkdir(join(embeddings, 'projector'), { recursive: true });
  await writeSprite(join(embeddings, 'projector', 'sprite.png'), tiles, COUNT, 8, 8);
  return page;
}

test(
  'view s3://… lists and serves a chain as from disk, refuses the same paths, and a poll sees a new frame',
  { skip: needs('s3'), timeout: 120_000 },
  async (t) => {
    const logdir = await mkdtemp(join(tmpdir(), 'view-s3-'));
    t.after(() => rm(logdir, { recursive: true, force: true }));
    const bucket = await createTestBucket();
    t.after(() => bucket.remove());
    const url = bucket.url('team/logs');
    const storage = storageFor(url);

    // A chain as the watcher leaves it: page, data scripts, sprite, its record, and what is not the player's.
    const embeddings = join(logdir, 'run-a', 'embeddings');
    const page = await writeChain(embeddings);
    await writeFile(join(embeddings, 'state.json'), JSON.stringify({ frames: [record(5)] }));
    await writeFile(join(embeddings, '.lock'), '123');
    await mkdir(join(logdir, 'run-a', 'checkpoints', 'step-000000005'), { recursive: true });
    await writeFile(join(logdir, 'run-a', 'checkpoints', 'step-000000005', 'model.json'), '{}');
    await writeFile(join(logdir, 'run-a', 'events.out.tfevents.1700000000.host'), 'EVENTS');
    const tagChain = join(logdir, 'exp1', 'timelapse', 'features');
    await mkdir(tagChain, { recursive: true });
    await writeFile(join(tagChain, 'timelapse.html'), '<!doctype html><p>page</p>');
    await writeFile(join(tagChain, 'state.json'), JSON.stringify({ frames: [{}, {}, {}] }));
    await mkdir(join(logdir, '.hidden'));
    await writeFile(join(logdir, '.hidden', 'timelapse.html'), 'hidden');
    const firstFiles = await filesUnder(logdir);
    await upload(storage, logdir, firstFiles);

    const local = await serve(t, logdir);
    const remote = await serve(t, url);
    // A second server over its own storage, to count what its index costs.
    const counted = new S3Storage(parseS3Url(url));
    const countedPort = await serve(t, counted);

    const index = (await get(remote, '/')).body.toString();
    assert.match(index, new RegExp(`<h1>Runs in ${url}</h1>`));
    assert.match(index, /href="\/run-a\/embeddings\/timelapse\.html">run-a<\/a> · 1 frame</);
    assert.match(index, /href="\/exp1\/timelapse\/features\/timelapse\.html">exp1 · features<\/a> · 3 frames/);
    assert.match(index, /exp1 <small>\(waiting for the watcher\)/);
    assert.doesNotMatch(index, /hidden/);
    // The same list as disk shows, apart from the title.
    const localIndex = (await get(local, '/')).body.toString();
    assert.equal(index.replace(/<h1>.*<\/h1>/, ''), localIndex.replace(/<h1>.*<\/h1>/, ''));

    // Unchanged chains cost one listing: each record and page was read once and kept by its ETag.
    const first = (await get(countedPort, '/')).body.toString();
    assert.equal(first, index);
    const before = counted.requests;
    assert.equal((await get(countedPort, '/')).body.toString(), index);
    assert.equal(counted.requests - before, 1, 'requests for an unchanged index');

    const chunk = firstFiles.find((key) => /\/page\/frames-\d+\.js$/.test(key));
    assert.ok(chunk, `a page chunk among ${firstFiles.join(', ')}`);
    for (const key of ['run-a/embeddings/timelapse.html', chunk, 'run-a/embeddings/projector/sprite.png']) {
      const reply = await get(remote, `/${key}`);
      assert.equal(reply.status, 200, key);
      assert.ok(reply.body.equals(await readFile(join(logdir, ...key.split('/')))), `${key} byte-identical`);
      assert.equal(reply.headers['content-type'], (await get(local, `/${key}`)).headers['content-type'], key);
    }

    const pagePath = '/run-a/embeddings/timelapse.html';
    const etag = String((await get(remote, pagePath)).headers.etag);
    assert.equal(etag, `"${(await storage.stat('run-a/embeddings/timelapse.html'))!.etag}"`);
    const notModified = await get(remote, pagePath, { headers: { 'if-none-match': etag } });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    const head = await get(remote, pagePath, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.etag, etag);
    assert.equal(head.headers['content-length'], String((await readFile(join(embeddings, 'timelapse.html'))).length));
    assert.equal(head.body.length, 0);
    assert.equal((await get(remote, pagePath, { method: 'POST' })).status, 405);
    assert.equal((await get(remote, pagePath, { headers: { host: `evil.example:${remote}` } })).status, 403);

    // Refused exactly as disk refuses them (both servers read the same files).
    const refused = [
      '/run-a/embeddings/state.json',
      '/run-a/embeddings/%73tate.json',
      '/run-a/embeddings/.lock',
      '/run-a/checkpoints/step-000000005/model.json',
      '/run-a/events.out.tfevents.1700000000.host',
      '/.hidden/timelapse.html',
      '/run-a/embeddings',
      '/nothing-here.html',
      '/../run-a/embeddings/timelapse.html',
      '/run-a/../run-a/embeddings/timelapse.html',
      '/%2e%2e/team/logs/run-a/embeddings/timelapse.html',
      '/run-a%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/run-a/embeddings/timelapse.html%00.png',
      '/%E0%A4%A',
    ];
    for (const path of refused) {
      const [atDisk, atBucket] = [await get(local, path), await get(remote, path)];
      assert.ok(atDisk.status >= 400, `${path}: refused on disk (${atDisk.status})`);
      assert.equal(atBucket.status, atDisk.status, path);
      assert.equal(atBucket.body.toString(), atDisk.body.toString(), path);
    }

    // One more frame: the watcher writes its chunk, then the index; a polling page sees both.
    const indexPath = '/run-a/embeddings/page/index.js';
    const indexTag = String((await get(remote, indexPath, { method: 'HEAD' })).headers.etag);
    await page.update([record(5), record(10)], { step: 10, positions: positions(10) });
    const newChunks = (await filesUnder(logdir)).filter((key) => !firstFiles.includes(key));
    assert.equal(newChunks.length, 1, `one new chunk: ${newChunks.join(', ')}`);
    assert.equal((await get(remote, `/${newChunks[0]}`)).status, 404, 'not uploaded yet');
    assert.equal((await get(remote, indexPath, { headers: { 'if-none-match': indexTag } })).status, 304);
    await upload(storage, logdir, [...newChunks, 'run-a/embeddings/page/index.js']);
    const polled = await get(remote, indexPath, { method: 'HEAD', headers: { 'if-none-match': indexTag } });
    assert.equal(polled.status, 200);
    assert.notEqual(polled.headers.etag, indexTag);
    const newIndex = await get(remote, indexPath, { headers: { 'if-none-match': indexTag } });
    assert.ok(newIndex.body.equals(await readFile(join(embeddings, 'page', 'index.js'))));
    const newChunk = await get(remote, `/${newChunks[0]}`);
    assert.equal(newChunk.status, 200);
    assert.ok(newChunk.body.equals(await readFile(join(logdir, ...newChunks[0]!.split('/')))));
    // The record, written last, changes the index's count: read again because its ETag changed.
    await storage.write('run-a/embeddings/state.json', JSON.stringify({ frames: [record(5), record(10)] }));
    const afterFrame = counted.requests;
    assert.match((await get(countedPort, '/')).body.toString(), /run-a<\/a> · 2 frames/);
    assert.equal(counted.requests - afterFrame, 2, 'one listing and one read of the changed record');

    // The command itself: says where it serves from and links the pages it found.
    const cli = startCli(['view', '--logdir', url, '--port', '0']);
    // Both pages' lines: they may reach this process in separate chunks.
    await until(
      'view to list its pages',
      () =>
        cli.lines.some((line) => /exp1 · features: http/.test(line)) &&
        cli.lines.some((line) => /^ {2}run-a: /.test(line)),
      60,
    );
    const serving = cli.lines.find((line) => line.startsWith('serving '))!;
    assert.match(serving, new RegExp(`^serving ${url} at http://127\\.0\\.0\\.1:\\d+/ \\(Ctrl-C to stop\\)$`));
    assert.ok(
      cli.lines.some((line) => /^ {2}run-a: http:\/\/127\.0\.0\.1:\d+\/run-a\/embeddings\/timelapse\.html$/.test(line)),
    );
    const cliPort = Number(/127\.0\.0\.1:(\d+)/.exec(serving)![1]);
    assert.equal((await get(cliPort, '/run-a/embeddings/page/index.js')).headers.etag, polled.headers.etag);
    cli.process.kill('SIGTERM');
    assert.deepEqual(await cli.exited, { code: 0, signal: null });
  },
);

test(
  'view s3:// of a missing bucket is one line at start; a store that fails while serving is a 502 or 503 line',
  { skip: needs('s3'), timeout: 120_000 },
  async (t) => {
    await assert.rejects(view(['--logdir', 's3://et-no-such-bucket-41x/logs', '--port', '0']), (error) => {
      assert.ok(isUserError(error), String(error));
      assert.match(error.message, /bucket 'et-no-such-bucket-41x' does not exist/);
      assert.ok(!error.message.includes('\n'), error.message);
      assert.ok(!error.message.includes(process.env.AWS_SECRET_ACCESS_KEY!), 'no secret in the line');
      return true;
    });

    // The bucket goes away while the server runs: the index is a 502 with the one line. A file
    // is a plain 404, since a HEAD cannot tell a missing bucket from a missing object.
    const missing = await serve(t, 's3://et-no-such-bucket-41x/logs');
    const gone = await get(missing, '/');
    assert.equal(gone.status, 502);
    assert.match(gone.body.toString(), /^502 [^\n]*bucket 'et-no-such-bucket-41x' does not exist[^\n]*\n$/);
    assert.equal((await get(missing, '/run/embeddings/timelapse.html')).status, 404);
    const secrets = [process.env.AWS_SECRET_ACCESS_KEY!, process.env.AWS_ACCESS_KEY_ID!];
    for (const secret of secrets) assert.ok(!gone.body.toString().includes(secret), 'no credentials in a reply');

    // An endpoint that does not answer: 503 with one line, after a short wait.
    const client = new S3Client({ ...s3ClientConfig(), endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    t.after(() => client.destroy());
    const away = new S3Storage(parseS3Url('s3://some-bucket/logs'), {
      client,
      endpoint: 'http://127.0.0.1:9',
      retryForMs: 300,
      firstDelayMs: 50,
      notify: () => {},
    });
    const port = await serve(t, away);
    for (const path of ['/', '/run/embeddings/page/index.js']) {
      const reply = await get(port, path, { method: path === '/' ? 'GET' : 'HEAD' });
      assert.equal(reply.status, 503, path);
      if (path === '/') assert.match(reply.body.toString(), /^503 [^\n]*127\.0\.0\.1:9[^\n]*\n$/);
      for (const secret of secrets) assert.ok(!reply.body.toString().includes(secret), 'no credentials in a reply');
    }
  },
);

test(
  'a page opened in chromium from view s3://… shows a frame uploaded while it is open, without a reload',
  { skip: needs('s3', 'chromium'), timeout: 120_000 },
  async (t) => {
    const logdir = await mkdtemp(join(tmpdir(), 'view-s3-live-'));
    t.after(() => rm(logdir, { recursive: true, force: true }));
    const bucket = await createTestBucket();
    t.after(() => bucket.remove());
    const storage = storageFor(bucket.url('logs'));
    const embeddings = join(logdir, 'run-a', 'embeddings');
    const page = await writeChain(embeddings);
    const firstFiles = await filesUnder(logdir);
    await upload(storage, logdir, firstFiles);
    const server = await createViewServer(bucket.url('logs'));
    let indexPolls = 0;
    server.on('request', (request: IncomingMessage) => {
      if (request.method === 'HEAD' && request.url?.startsWith('/run-a/embeddings/page/index.js')) indexPolls++;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_FLAGS] });
    t.after(() => browser.close());
    const tab = await browser.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(String(error)));
    tab.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
    await tab.goto(`http://127.0.0.1:${port}/`);
    await tab.click('a:text("run-a")');
    await tab.waitForFunction(() => window.timelapse?.ready === true);
    assert.equal(await tab.evaluate(() => window.timelapse!.frameCount), 1);
    await tab.evaluate(() => (window.marker = 'same document'));
    // Polls run one after another: after the second, the page holds the first poll's ETag, so
    // only a changed ETag can bring the new frame in.
    await until('the page to poll its index twice', () => indexPolls >= 2, 30);

    await page.update([record(5), record(10)], { step: 10, positions: positions(10) });
    const changed = (await filesUnder(logdir)).filter((key) => !firstFiles.includes(key) || key.endsWith('/index.js'));
    await upload(storage, logdir, changed);
    await tab.waitForFunction(() => window.timelapse!.frameCount === 2, undefined, { timeout: 30_000 });
    assert.deepEqual(await tab.evaluate(() => [window.marker, window.timelapse!.steps]), ['same document', [5, 10]]);
    assert.deepEqual(errors, [], 'no console errors');
  },
);
