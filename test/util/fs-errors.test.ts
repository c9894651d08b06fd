import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeFsError } from '../../src/errors.ts';

const fsError = (code: string) => Object.assign(new Error(`${code}: something`), { code });

test('a permission error while reading says how to get read access, not where to write', () => {
  for (const action of ['read', 'read event file', 'list checkpoints in', 'read log directory']) {
    const line = describeFsError(fsError('EACCES'), action, '/logs/run/events.out.tfevents.1');
    assert.match(
      line,
      new RegExp(`^cannot ${action} /logs/run/events\\.out\\.tfevents\\.1: permission denied; make it readable`),
    );
    assert.doesNotMatch(line, /write/);
  }
  assert.match(
    describeFsError(fsError('EPERM'), 'write', '/x/model.onnx'),
    /permission denied; choose a directory you can write to$/,
  );
});

test('every file-system error line ends with what to do', () => {
  for (const code of ['ENOENT', 'EACCES', 'EROFS', 'ENOSPC', 'ENOTDIR', 'EISDIR', 'EMFILE', 'EIO']) {
    for (const action of ['read', 'write']) {
      const line = describeFsError(fsError(code), action, '/p');
      assert.match(line, /^cannot (read|write) \/p: [^;]+; \S.*$/, `${code} ${action}: ${line}`);
      assert.doesNotMatch(line, /\n/);
    }
  }
});
