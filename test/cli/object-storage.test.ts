/**
 * `s3://` on the command line: `inspect` reads a log directory on the real Ceph gateway and
 * prints what it prints for the same files on disk (`view` serves it: test/view/server-s3.test.ts);
 * every command that cannot use object storage yet refuses an s3:// address with one line instead of writing into a local folder named `s3:`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isUserError } from '../../src/errors.ts';
import { parseCommand } from '../../src/cli/args.ts';
import { collectOutput } from '../../src/cli/output.ts';
import { run as inspect } from '../../src/cli/inspect.ts';
import { run as watch } from '../../src/cli/watch.ts';
import { run as train } from '../../src/cli/train.ts';
import { storageFor } from '../../src/storage/index.ts';
import { SHARED_DIR, needs } from '../helpers/requirements.ts';
import { createTestBucket } from '../helpers/s3.ts';

const FIXTURE = join(SHARED_DIR, 'fixtures', 'tensorboard');

test(
  'inspect s3://… prints what inspect prints for the same files on disk',
  { skip: needs('shared', 's3') },
  async (t) => {
    const bucket = await createTestBucket();
    t.after(() => bucket.remove());
    const logdir = bucket.url('team/logs');
    const storage = storageFor(logdir);
    const files = await readdir(FIXTURE, { recursive: true, withFileTypes: true });
    for (const file of files.filter((entry) => entry.isFile())) {
      const path = join(file.parentPath, file.name);
      await storage.write(relative(FIXTURE, path), await readFile(path));
    }
    const local = collectOutput();
    const remote = collectOutput();
    assert.equal(await inspect([FIXTURE], local), 0);
    assert.equal(await inspect([logdir], remote), 0);
    assert.equal(remote.lines[0], `${logdir}: 2 runs\n`);
    assert.deepEqual(remote.lines.slice(1), local.lines.slice(1));
    assert.match(remote.lines[1]!, /run 'logs\/run_a' {2}\(1 event file, 11 events/);
    assert.match(remote.lines[1]!, /projector: 1 embedding \(embedding:step-000000512\), shape 16×4, sprite tiles 8×8/);

    const json = collectOutput();
    assert.equal(await inspect([logdir, '--run', 'logs/run_a', '--json'], json), 0);
    const summary = JSON.parse(json.lines[0]!) as { dir: string; events: number };
    assert.equal(summary.dir, `${logdir}/logs/run_a`);
    assert.equal(summary.events, 11);

    const empty = collectOutput();
    assert.equal(await inspect([bucket.url('nothing/here')], empty), 0);
    assert.match(empty.lines[0]!, /nothing\/here: no runs yet/);
    await assert.rejects(
      inspect(['s3://et-no-such-bucket-41x/logs'], collectOutput()),
      (error) => isUserError(error) && /bucket 'et-no-such-bucket-41x' does not exist/.test(error.message),
    );
  },
);

test('options that take a local path refuse s3:// with one line and write nothing', async (t) => {
  const before = existsSync('s3:');
  // Every command takes s3:// for its log directory; its working folder must still be local.
  await t.test('watch --work-dir', async () => {
    const argv = ['--logdir', 's3://bucket/logs', '--work-dir', 's3://bucket/work'];
    await assert.rejects(watch(argv), (error) => {
      assert.ok(isUserError(error), String(error));
      assert.match(
        error.message,
        /^watch: --work-dir s3:\/\/bucket\/work: 'watch' cannot use object storage yet for this option/,
      );
      assert.match(error.message, /give a local directory$/);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  });
  // Commands that take s3:// for their log directory still refuse it where a local path is meant.
  await t.test('train --data', async () => {
    await assert.rejects(train(['--logdir', 's3://bucket/logs', '--data', 's3://bucket/cifar']), (error) => {
      assert.ok(isUserError(error), String(error));
      assert.match(
        error.message,
        /^train: --data s3:\/\/bucket\/cifar: 'train' cannot use object storage yet for this option/,
      );
      return true;
    });
  });
  assert.equal(existsSync('s3:') || existsSync('S3:'), before);
  const options = { logdir: { type: 'string' }, out: { type: 'string' } } as const;
  assert.equal(
    parseCommand('x', ['--logdir', 's3://b/p'], { help: '', options, objectStorage: ['logdir'] })?.values.logdir,
    's3://b/p',
  );
  assert.throws(
    () =>
      parseCommand('x', ['--logdir', 's3://b/p', '--out', 's3://b/q'], {
        help: '',
        options,
        objectStorage: ['logdir'],
      }),
    /x: --out s3:\/\/b\/q: 'x' cannot use object storage yet/,
  );
});
