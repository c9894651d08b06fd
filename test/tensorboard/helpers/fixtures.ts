/** Paths and records of the TensorBoard fixtures in ../shared/fixtures/tensorboard. */
import { readFileSync } from 'node:fs';
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

export const fixture: FixtureFile = JSON.parse(readFileSync(`${FIXTURE_DIR}records.json`, 'utf8')) as FixtureFile;
export const FIXTURE_EVENT_FILE = `${FIXTURE_DIR}${fixture.file}`;
