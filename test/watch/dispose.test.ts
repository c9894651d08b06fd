import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEventFile, summaryFileWriter, type SummaryWriter } from '../../src/tensorboard/index.ts';
import { RunEventLog } from '../../src/watch/sinks/events.ts';

test('a SummaryWriter and the watcher event log close themselves at the end of an await using block', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'et-dispose-'));
  try {
    let summary: SummaryWriter;
    {
      await using writer = summaryFileWriter(dir);
      summary = writer;
      writer.scalar('x', 1, 0);
      assert.equal(writer.closed, false);
    }
    assert.equal(summary.closed, true);
    assert.equal((await readEventFile(summary.events.path)).length, 2, 'the file version event and the scalar');

    let closes = 0;
    {
      await using log = await RunEventLog.open(join(dir, 'embeddings'), dir);
      t.mock.method(log, 'close', async () => void closes++);
      assert.equal(closes, 0);
    }
    assert.equal(closes, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
