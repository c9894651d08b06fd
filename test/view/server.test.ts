import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createViewServer } from '../../src/view/server.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: node's client sends the path as given (no normalisation of `..` or `%2e`). */
function get(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
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
    ['/nothing-here.html', [404]],
  ];
  for (const [path, allowed] of escapes) {
    const reply = await get(port, path);
    assert.ok(allowed.includes(reply.status), `${path}: status ${reply.status}, expected ${allowed.join(' or ')}`);
    assert.doesNotMatch(reply.body, /SECRET/, `${path} must not leak the file`);
  }
});
