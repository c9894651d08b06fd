import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timestampRunName } from '../../src/train/runs.ts';

test('run names are the UTC time, so they sort chronologically in any time zone', () => {
  assert.equal(timestampRunName(new Date('2026-11-26T10:15:00Z')), '20261126-101500');
  assert.equal(timestampRunName(new Date('2026-03-29T00:59:59.999Z')), '20260329-005959');
  const names = ['2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-10-25T02:30:00Z'].map((t) =>
    timestampRunName(new Date(t)),
  );
  assert.deepEqual([...names].sort(), names);
  assert.equal(new Set(names).size, 3);
});
