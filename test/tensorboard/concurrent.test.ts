/**
 * One process appends events while this one reads the same file over and over: every read must
 * succeed and return a prefix of what is being written, never a broken record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEventFileDetailed, textOf } from '../../src/tensorboard/index.ts';
import { payloadFor } from './helpers/append-events.ts';

const WRITER_SCRIPT = fileURLToPath(new URL('./helpers/append-events.ts', import.meta.url));
const COUNT = 600;

test('a reader running while another process appends never sees a broken record', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tb-concurrent-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER_SCRIPT, dir, String(COUNT)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const path = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.on('exit', () => reject(new Error('writer exited before naming its file')));
    });

    let done = false;
    void exited.then(() => (done = true));
    // Tail the file as TensorBoard does (resume after the last complete record), and re-read it
    // whole every few polls: both must only ever see whole records, in order.
    let reads = 0;
    let partialTails = 0;
    let seenGrowing = 0;
    let offset = 0;
    let nextStep = -1; // the file_version record comes first
    for (;;) {
      const finished = done;
      const read = await readEventFileDetailed(path, offset);
      reads++;
      if (read.partialTail) partialTails++;
      for (const event of read.events) {
        assert.equal(event.step, Math.max(0, nextStep), 'steps arrive in order, none missing');
        if (nextStep >= 0) assert.equal(textOf(event.summary!.value![0]!), payloadFor(event.step));
        nextStep++;
      }
      if (read.events.length > 0 && nextStep < COUNT) seenGrowing++;
      offset = read.end;
      if (reads % 25 === 0) {
        const whole = await readEventFileDetailed(path);
        assert.ok(whole.events.length >= nextStep + 1, 'a whole read sees at least what the tail saw');
        assert.deepEqual(
          whole.events.slice(1).map((e) => e.step),
          whole.events.slice(1).map((_, i) => i),
        );
      }
      if (finished) break;
    }
    const lastCount = nextStep;
    t.diagnostic(`${reads} reads, ${seenGrowing} saw the file growing, ${partialTails} ended in a partial record`);
    assert.equal(await exited, 0);
    assert.equal(lastCount, COUNT);
    assert.ok(
      seenGrowing >= 2,
      `the reader saw the file mid-write (${seenGrowing} growing reads of ${reads}, ${partialTails} with a partial ` +
        `tail)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
