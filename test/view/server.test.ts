import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createViewServer } from '../../src/view/server.ts';
import { CLI, REPO_ROOT, startCli, until } from '../helpers/cli.ts';
import { rawGet, type RawReply } from './helpers/http.ts';

type Reply = Omit<RawReply, 'body'> & { body: string };

/** `rawGet` with the body as text. */
async function get(port: number, path: string, options: Parameters<typeof rawGet>[2] = {}): Promise<Reply> {
  const reply = await rawGet(port, path, options);
  return { ...reply, body: reply.body.toString('utf8') };
}

test('view serves the log directory only: .., absolute, encoded, symlinked escapes get 403/404', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'view-server-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const logdir = join(base, 'logs');
  await mkdir(join(logdir, 'run-a', 'embeddings'), { recursive: true });
  await writeFile(join(logdir, 'run-a', 'embeddings', 'timelapse.html'), '<!doctype html><p>page</p>');
  await writeFile(join(logdir, 'run-a', 'embeddings', 'state.json'), JSON.stringify({ frames: [{}, {}] }));
  await writeFile(join(base, 'secret.txt'), 'SECRET');
  await mkdir(join(logdir, 'run-b'));
  await symlink(base, join(logdir, 'run-b', 'out'));
  await symlink(join(base, 'secret.txt'), join(logdir, 'run-b', 'secret-link.txt'));

  const server = await createViewServer(logdir);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;

  const index = await get(port, '/');
  assert.equal(index.status, 200);
  assert.match(index.body, /href="\/run-a\/embeddings\/timelapse\.html">run-a<\/a> · 2 frames/);
  assert.match(index.body, /run-b <small>\(waiting for the watcher\)/);

  const page = await get(port, '/run-a/embeddings/timelapse.html');
  assert.equal(page.status, 200);
  assert.equal(page.body, '<!doctype html><p>page</p>');
  assert.match(String(page.headers['content-type']), /^text\/html/);
  const etag = String(page.headers.etag);
  assert.ok(etag.length > 4, 'an ETag for polling');
  assert.equal(
    (await get(port, '/run-a/embeddings/timelapse.html', { headers: { 'if-none-match': etag } })).status,
    304,
  );
  const head = await get(port, '/run-a/embeddings/timelapse.html', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.etag, etag);
  assert.equal(head.body, '');
  assert.equal((await get(port, '/run-a/embeddings/timelapse.html', { method: 'POST' })).status, 405);

  const escapes: [string, number[]][] = [
    ['/../secret.txt', [403]],
    ['/run-a/../../secret.txt', [403]],
    ['/%2e%2e/secret.txt', [403]],
    ['/%2E%2E%2Fsecret.txt', [403]],
    ['/run-a%2f..%2f..%2fsecret.txt', [403]],
    ['/..%5csecret.txt', [403]],
    [`/${base}/secret.txt`, [404]],
    [`/${encodeURIComponent(join(base, 'secret.txt'))}`, [404]],
    [`//${join(base, 'secret.txt')}`, [404]],
    ['/run-b/out/secret.txt', [403]],
    ['/run-b/secret-link.txt', [403]],
    ['/run-a/embeddings/timelapse.html%00.png', [400]],
    ['/%E0%A4%A', [400]],
    [`http://127.0.0.1:${port}/../secret.txt`, [400, 403, 404]],
    ['/run-a/embeddings', [404]],
    // The watcher's own record is not the player's to read.
    ['/run-a/embeddings/state.json', [404]],
    ['/run-a/embeddings/%73tate.json', [404]],
    ['/nothing-here.html', [404]],
  ];
  for (const [path, allowed] of escapes) {
    const reply = await get(port, path);
    assert.ok(allowed.includes(reply.status), `${path}: status ${reply.status}, expected ${allowed.join(' or ')}`);
    assert.doesNotMatch(reply.body, /SECRET/, `${path} must not leak the file`);
  }
});

/** A view server on a random port of 127.0.0.1 for `logdir`, closed after the test. */
async function serve(t: { after(fn: () => Promise<void>): void }, logdir: string): Promise<number> {
  const server = await createViewServer(logdir);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

test('view answers only loopback Host headers and serves only what the player needs', async (t) => {
  const logdir = await mkdtemp(join(tmpdir(), 'view-served-'));
  t.after(() => rm(logdir, { recursive: true, force: true }));
  const embeddings = join(logdir, 'run-a', 'embeddings');
  await mkdir(join(embeddings, 'frames'), { recursive: true });
  await mkdir(join(logdir, 'run-a', 'checkpoints', 'step-000000004'), { recursive: true });
  await mkdir(join(logdir, '.git'));
  const files: Record<string, string> = {
    'run-a/embeddings/timelapse.html': '<p>page',
    'run-a/embeddings/data.js': 'var frames = [];',
    'run-a/embeddings/page.css': 'p{}',
    'run-a/embeddings/sprite.png': 'PNG',
    'run-a/embeddings/timelapse.gif': 'GIF',
    'run-a/embeddings/frames/step-000000004.tsv': '1\t2',
    'run-a/embeddings/projector.json': '{}',
    'run-a/embeddings/state.json': '{"frames":[]}',
    'run-a/embeddings/.lock': '123',
    'run-a/checkpoints/step-000000004/model.json': '{}',
    'run-a/checkpoints/step-000000004/weights.bin': 'WEIGHTS',
    'run-a/events.out.tfevents.1700000000.host': 'EVENTS',
    '.git/config': '[core]',
    'run-a/notes.txt': 'text',
  };
  for (const [path, text] of Object.entries(files)) await writeFile(join(logdir, path), text);
  await symlink(join(logdir, 'run-a', 'checkpoints', 'step-000000004', 'model.json'), join(embeddings, 'model.json'));
  const port = await serve(t, logdir);

  const served = ['timelapse.html', 'data.js', 'page.css', 'sprite.png', 'timelapse.gif', 'frames/step-000000004.tsv'];
  for (const file of [...served, 'projector.json']) {
    assert.equal((await get(port, `/run-a/embeddings/${file}`)).status, 200, file);
  }
  const refused = [
    '/.git/config',
    '/run-a/embeddings/.lock',
    '/run-a/embeddings/state.json',
    '/run-a/embeddings/model.json',
    '/run-a/checkpoints/step-000000004/model.json',
    '/run-a/checkpoints/step-000000004/weights.bin',
    '/run-a/events.out.tfevents.1700000000.host',
    '/run-a/notes.txt',
  ];
  for (const path of refused) assert.equal((await get(port, path)).status, 404, path);

  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
    assert.equal((await get(port, '/', { headers: { host } })).status, 200, host);
    assert.equal((await get(port, '/run-a/embeddings/timelapse.html', { headers: { host } })).status, 200, host);
  }
  const foreign = [
    `evil.example:${port}`,
    'evil.example',
    '127.0.0.1',
    `127.0.0.1:${port + 1}`,
    `localhost.evil:${port}`,
  ];
  for (const host of foreign) {
    const reply = await get(port, '/run-a/embeddings/timelapse.html', { headers: { host } });
    assert.equal(reply.status, 403, host);
    assert.doesNotMatch(reply.body, /page/);
    assert.equal((await get(port, '/', { headers: { host } })).status, 403, host);
  }
});

/** The number of file descriptors this process holds. */
const openFiles = () => readdir('/proc/self/fd').then((names) => names.length);

test(
  '500 downloads aborted after the first chunk, and 100 complete ones, leave no file open',
  { timeout: 120_000 },
  async (t) => {
    const logdir = await mkdtemp(join(tmpdir(), 'view-fds-'));
    t.after(() => rm(logdir, { recursive: true, force: true }));
    await mkdir(join(logdir, 'run', 'embeddings'), { recursive: true });
    await writeFile(join(logdir, 'run', 'embeddings', 'timelapse.gif'), Buffer.alloc(4 * 1024 * 1024, 7));
    const port = await serve(t, logdir);
    const before = await openFiles();

    const abortAfterFirstChunk = () =>
      new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/run/embeddings/timelapse.gif' }, (res) => {
          res.once('data', () => {
            res.once('close', () => resolve());
            req.destroy();
          });
        });
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? resolve() : reject(error)));
        req.end();
      });
    for (let i = 0; i < 500; i += 25) await Promise.all(Array.from({ length: 25 }, abortAfterFirstChunk));
    for (let i = 0; i < 100; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, async () =>
          assert.equal((await get(port, '/run/embeddings/timelapse.gif')).body.length, 4 * 1024 * 1024),
        ),
      );
    }
    // The server sees each abort a moment after the client: wait until it has, or fail naming the count.
    let after = await openFiles();
    await until(
      `open files back near ${before} (now ${after})`,
      async () => (after = await openFiles()) <= before + 5,
      20,
    ).catch(() => undefined);
    assert.ok(after <= before + 5, `open files: ${before} before, ${after} after 600 downloads`);
  },
);

test(
  'one broken run (state.json null, a named pipe, not JSON) does not take down the index',
  { timeout: 120_000 },
  async (t) => {
    const logdir = await mkdtemp(join(tmpdir(), 'view-broken-'));
    t.after(() => rm(logdir, { recursive: true, force: true }));
    for (const run of ['good', 'null-state', 'pipe-state', 'bad-json']) {
      await mkdir(join(logdir, run, 'embeddings'), { recursive: true });
      await writeFile(join(logdir, run, 'embeddings', 'timelapse.html'), '<p>page');
    }
    await writeFile(join(logdir, 'good', 'embeddings', 'state.json'), JSON.stringify({ frames: [{}, {}, {}] }));
    await writeFile(join(logdir, 'null-state', 'embeddings', 'state.json'), 'null');
    await writeFile(join(logdir, 'bad-json', 'embeddings', 'state.json'), '{"frames": [');
    execFileSync('mkfifo', [join(logdir, 'pipe-state', 'embeddings', 'state.json')]);
    const port = await serve(t, logdir);

    const index = await get(port, '/');
    assert.equal(index.status, 200);
    assert.match(index.body, /good<\/a> · 3 frames/);
    for (const run of ['null-state', 'pipe-state', 'bad-json'])
      assert.match(index.body, new RegExp(`${run}</a> · no frames yet`));
  },
);

test(
  'view of an unreadable log directory is one line at start; SIGTERM stops it even with a pipe for state.json',
  { timeout: 120_000 },
  async (t) => {
    const base = await mkdtemp(join(tmpdir(), 'view-cli-'));
    t.after(() => rm(base, { recursive: true, force: true }));
    await chmod(base, 0o755);
    const secret = join(base, 'private-logs');
    await mkdir(join(secret, 'run'), { recursive: true, mode: 0o700 });
    // Root reads everything: the unreadable case needs another user.
    const unreadable = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        CLI,
        'view',
        '--logdir',
        secret,
        '--port',
        '0',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(unreadable.status, 2, unreadable.stdout + unreadable.stderr);
    assert.match(
      unreadable.stderr,
      /^embedding-timelapse: cannot list the runs in .*private-logs: permission denied; [^\n]*\n$/,
    );

    const logdir = join(base, 'logs');
    await mkdir(join(logdir, 'run', 'embeddings'), { recursive: true });
    execFileSync('mkfifo', [join(logdir, 'run', 'embeddings', 'state.json')]);
    const view = startCli(['view', '--logdir', logdir, '--port', '0']);
    await until('view to listen', () => view.lines.some((line) => /^serving /.test(line)), 60);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(view.lines.find((line) => /^serving /.test(line))!)![1]);
    assert.equal((await get(port, '/')).status, 200);
    view.process.kill('SIGTERM');
    assert.deepEqual(await view.exited, { code: 0, signal: null });
  },
);

test("view lists the chains of another trainer's embedding tags beside the run's own chain", async (t) => {
  const logdir = await mkdtemp(join(tmpdir(), 'view-tags-'));
  t.after(() => rm(logdir, { recursive: true, force: true }));
  const chain = join(logdir, 'exp1', 'timelapse', 'features');
  await mkdir(chain, { recursive: true });
  await writeFile(join(chain, 'timelapse.html'), '<!doctype html><p>page</p>');
  await writeFile(join(chain, 'state.json'), JSON.stringify({ frames: [{}, {}, {}] }));

  const server = await createViewServer(logdir);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;

  const index = await get(port, '/');
  assert.match(index.body, /href="\/exp1\/timelapse\/features\/timelapse\.html">exp1 · features<\/a> · 3 frames/);
  assert.match(index.body, /exp1 <small>\(waiting for the watcher\)/);
  assert.equal((await get(port, '/exp1/timelapse/features/timelapse.html')).status, 200);
});
