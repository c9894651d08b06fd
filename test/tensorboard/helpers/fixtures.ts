/** Paths and records of the TensorBoard fixtures in ../shared/fixtures/tensorboard. */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURE_DIR = fileURLToPath(new URL('../../../../shared/fixtures/tensorboard/', import.meta.url));
export const FIXTURE_LOGDIR = `${FIXTURE_DIR}logs`;

export interface FixtureRecord {
  offset: number;
  length: number;
  record_hex: string;
  event: Record<string, unknown>;
  kind: string;
  tag?: string;
  step?: number;
  wall_time?: number;
  png_base64?: string;
}

export interface FixtureFile {
  file: string;
  crc32c_check: { input: string; crc32c: string };
  records: FixtureRecord[];
}

/** Empty without ../shared: the tests that read it skip with `needs('shared')`. */
export const fixture: FixtureFile = existsSync(FIXTURE_DIR)
  ? (JSON.parse(readFileSync(`${FIXTURE_DIR}records.json`, 'utf8')) as FixtureFile)
  : { file: '', crc32c_check: { input: '', crc32c: '' }, records: [] };
export const FIXTURE_EVENT_FILE = `${FIXTURE_DIR}${fixture.file}`;
