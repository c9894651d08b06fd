/**
 * Output for TensorBoard's embedding projector in one run directory: tensor TSVs, a metadata
 * TSV, a sprite PNG, and `projector_config.pbtxt` listing one entry per embedding.
 *
 * The config is rewritten whole on every change: the current file is parsed, the entry added or
 * replaced (same `tensor_name`), and the result written to a temporary file renamed over the
 * old one, so TensorBoard never reads half a config and no entry already there is lost. Updates
 * from one process are serialised; one process should own a run's projector config.
 */
import { access, readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, posix, resolve as resolvePath, sep } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { PROJECTOR_CONFIG_FILE } from './event-reader.ts';
import { formatTextProto, parseTextProto } from './pbtxt.ts';
import { encodePng } from './png.ts';
import { protoType, type EmbeddingInfo, type ProjectorConfig, type SpriteMetadata } from './protos.ts';

/** TensorBoard's projector refuses sprites larger than this in either direction. */
export const MAX_SPRITE_PIXELS = 8192;

/** Text format of a ProjectorConfig, as Python's text_format prints it. */
export function formatProjectorConfig(config: ProjectorConfig): string {
  return formatTextProto(protoType('ProjectorConfig'), config as Record<string, unknown>);
}

/** Parses `projector_config.pbtxt` text; errors name the file, line and column. */
export function parseProjectorConfig(text: string, fileName = PROJECTOR_CONFIG_FILE): ProjectorConfig {
  return parseTextProto(protoType('ProjectorConfig'), text, fileName) as ProjectorConfig;
}

/** "1.500000" → "1.5", "2.000e-7" → "2e-7": toPrecision pads with zeros. */
function trimZeros(text: string): string {
  const exponent = text.indexOf('e');
  if (exponent >= 0) return trimZeros(text.slice(0, exponent)) + text.slice(exponent);
  if (text.indexOf('.') < 0) return text;
  let end = text.length;
  while (text.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (text.charCodeAt(end - 1) === 46 /* . */) end--;
  return text.slice(0, end);
}

/**
 * Shortest decimal (6 to 9 significant digits) that reads back as the same float32: the
 * projector holds float32, so more digits would only make the TSV bigger.
 */
export function formatFloat32(value: number): string {
  const target = Math.fround(value);
  for (let digits = 6; digits < 9; digits++) {
    const text = target.toPrecision(digits);
    if (Math.fround(parseFloat(text)) === target) return trimZeros(text);
  }
  return trimZeros(target.toPrecision(9));
}

/** The tensor TSV: one row per point, tab-separated, no header. Non-finite values are refused. */
export function tensorTsv(values: ArrayLike<number>, count: number, dims: number, name = 'tensor'): string {
  if (!Number.isInteger(count) || !Number.isInteger(dims) || count < 1 || dims < 1 || values.length !== count * dims) {
    throw new UserError(
      `embedding '${name}': got ${values.length} values for ${count} points × ${dims} dimensions; pass count × dims ` +
        `values`,
    );
  }
  const lines = new Array<string>(count);
  const row = new Array<string>(dims);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < dims; j++) {
      const v = values[i * dims + j]!;
      if (!Number.isFinite(v)) {
        throw new UserError(
          `embedding '${name}': value ${v} at point ${i}, dimension ${j}; the projector needs finite numbers (did ` +
            `training diverge?)`,
        );
      }
      row[j] = formatFloat32(v);
    }
    lines[i] = row.join('\t');
  }
  return lines.join('\n') + '\n';
}

/** Tabs and line breaks would split a TSV cell: they become spaces. */
function cleanCell(cell: string): string {
  return cell.replace(/[\t\r\n]/g, ' ');
}

/**
 * The metadata TSV, following TensorBoard's header rule: one column means no header row (every
 * line is a label); two or more columns means the first line is the header.
 */
export function metadataTsv(header: string[], rows: string[][]): string {
  if (header.length === 0) throw new UserError('metadata needs at least one column name');
  const lines: string[] = header.length > 1 ? [header.map(cleanCell).join('\t')] : [];
  rows.forEach((row, i) => {
    if (row.length !== header.length) {
      throw new UserError(
        `metadata row ${i} has ${row.length} cells but the header has ${header.length} (${header.join(', ')}); give ` +
          `every row one cell per column`,
      );
    }
    lines.push(row.map(cleanCell).join('\t'));
  });
  return lines.join('\n') + '\n';
}

/** Writes a metadata TSV atomically (see `metadataTsv` for the header rule). */
export async function writeMetadataTsv(path: string, header: string[], rows: string[][]): Promise<void> {
  await writeFileAtomic(path, metadataTsv(header, rows));
}

export interface SpriteGrid {
  /** Tiles per row and per column (the grid is square). */
  side: number;
  width: number;
  height: number;
}

/**
 * The square grid for `count` tiles, refused with the largest count that fits when it would
 * exceed TensorBoard's 8192 × 8192 px.
 */
export function spriteGrid(count: number, tileWidth: number, tileHeight: number): SpriteGrid {
  if (
    !Number.isInteger(count) ||
    count < 1 ||
    !Number.isInteger(tileWidth) ||
    !Number.isInteger(tileHeight) ||
    tileWidth < 1 ||
    tileHeight < 1
  ) {
    throw new UserError(
      `sprite: need a positive number of tiles and tile size, got ${count} tiles of ${tileWidth}×${tileHeight} px`,
    );
  }
  const side = Math.ceil(Math.sqrt(count));
  const width = side * tileWidth;
  const height = side * tileHeight;
  if (width > MAX_SPRITE_PIXELS || height > MAX_SPRITE_PIXELS) {
    const fit = Math.min(Math.floor(MAX_SPRITE_PIXELS / tileWidth), Math.floor(MAX_SPRITE_PIXELS / tileHeight));
    throw new UserError(
      `sprite of ${count} tiles of ${tileWidth}×${tileHeight} px would be ${width}×${height} px, over TensorBoard's ` +
        `${MAX_SPRITE_PIXELS}×${MAX_SPRITE_PIXELS} limit; at most ${fit * fit} points fit at this tile size: use ` +
        `fewer points or smaller tiles`,
    );
  }
  return { side, width, height };
}

/**
 * Lays `count` tiles (NHWC, RGB or RGBA, `tileWidth × tileHeight` each) out row by row from the
 * top left of a square grid: the sprite's raw pixels. Unused cells stay black (RGB) or transparent.
 */
export function layoutSprite(
  tiles: Uint8Array,
  count: number,
  tileWidth: number,
  tileHeight: number,
): { image: Uint8Array; channels: 3 | 4; grid: SpriteGrid } {
  const grid = spriteGrid(count, tileWidth, tileHeight);
  const tilePixels = tileWidth * tileHeight;
  const channels = tiles.length / (count * tilePixels);
  if (channels !== 3 && channels !== 4) {
    throw new UserError(
      `sprite: ${tiles.length} bytes is not ${count} RGB or RGBA tiles of ${tileWidth}×${tileHeight} ` +
        `(${count * tilePixels * 3} or ${count * tilePixels * 4} bytes)`,
    );
  }
  const image = new Uint8Array(grid.width * grid.height * channels);
  const tileRow = tileWidth * channels;
  const imageRow = grid.width * channels;
  for (let t = 0; t < count; t++) {
    const left = (t % grid.side) * tileRow;
    const top = Math.floor(t / grid.side) * tileHeight;
    for (let y = 0; y < tileHeight; y++) {
      const from = t * tilePixels * channels + y * tileRow;
      image.set(tiles.subarray(from, from + tileRow), (top + y) * imageRow + left);
    }
  }
  return { image, channels, grid };
}

/** The sprite as a PNG; see `layoutSprite`. */
export function spritePng(
  tiles: Uint8Array,
  count: number,
  tileWidth: number,
  tileHeight: number,
): { png: Buffer; grid: SpriteGrid } {
  const { image, channels, grid } = layoutSprite(tiles, count, tileWidth, tileHeight);
  return { png: encodePng(image, grid.width, grid.height, channels), grid };
}

/** Writes the sprite PNG atomically; see `spritePng`. */
export async function writeSprite(
  path: string,
  tiles: Uint8Array,
  count: number,
  tileWidth: number,
  tileHeight: number,
): Promise<SpriteGrid> {
  const { png, grid } = spritePng(tiles, count, tileWidth, tileHeight);
  await writeFileAtomic(path, png);
  return grid;
}

/** `name` made safe as a file name: `embedding:step-000000512` → `embedding_step-000000512`. */
export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

export interface AddEmbeddingOptions {
  /** Name in the projector's drop-down, unique within the run, e.g. `embedding:step-000000512`. */
  tensorName: string;
  /** Row-major `count × dims` values. */
  values: ArrayLike<number>;
  count: number;
  dims: number;
  /** Where to write the tensor TSV, relative to the run (default `embeddings/<name>.tsv`). */
  tensorPath?: string;
  /** An existing metadata TSV, relative to the run (one row per point). */
  metadataPath?: string;
  /** An existing sprite PNG, relative to the run, and its tile size. */
  sprite?: { imagePath: string; tileWidth: number; tileHeight: number };
  bookmarksPath?: string;
}

/** Serialises config rewrites per file within this process. */
const pendingUpdates = new Map<string, Promise<unknown>>();

export class ProjectorWriter {
  readonly runDir: string;

  constructor(runDir: string) {
    this.runDir = runDir;
  }

  get configPath(): string {
    return join(this.runDir, PROJECTOR_CONFIG_FILE);
  }

  /**
   * A path relative to the run directory, checked to stay inside it, with '/' separators as
   * the config stores it; and its absolute form.
   */
  resolve(relativePath: string): { relative: string; absolute: string } {
    const normalized = normalize(relativePath);
    if (isAbsolute(relativePath) || normalized === '..' || normalized.startsWith(`..${sep}`) || normalized === '.') {
      throw new UserError(
        `projector path '${relativePath}' must be a file path relative to ${this.runDir} and inside it`,
      );
    }
    return { relative: normalized.split(sep).join(posix.sep), absolute: join(this.runDir, normalized) };
  }

  /** The current config ({} when there is none yet). */
  async readConfig(): Promise<ProjectorConfig> {
    let text: string;
    try {
      text = await readFile(this.configPath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new UserError(describeFsError(error, 'read', this.configPath));
    }
    return parseProjectorConfig(text, this.configPath);
  }

  /** Writes a metadata TSV into the run; returns its relative path for `metadataPath`. */
  async writeMetadata(relativePath: string, header: string[], rows: string[][]): Promise<string> {
    const { relative, absolute } = this.resolve(relativePath);
    await writeMetadataTsv(absolute, header, rows);
    return relative;
  }

  /** Writes a sprite PNG into the run; returns the `sprite` block for an entry. */
  async writeSprite(
    relativePath: string,
    tiles: Uint8Array,
    count: number,
    tileWidth: number,
    tileHeight: number,
  ): Promise<SpriteMetadata> {
    const { relative, absolute } = this.resolve(relativePath);
    await writeSprite(absolute, tiles, count, tileWidth, tileHeight);
    return { image_path: relative, single_image_dim: [tileWidth, tileHeight] };
  }

  /** Writes the tensor TSV and adds (or replaces) its entry in the config. */
  async addEmbedding(options: AddEmbeddingOptions): Promise<EmbeddingInfo> {
    const tensor = this.resolve(options.tensorPath ?? `embeddings/${safeFileName(options.tensorName)}.tsv`);
    await writeFileAtomic(tensor.absolute, tensorTsv(options.values, options.count, options.dims, options.tensorName));
    const entry: EmbeddingInfo = {
      tensor_name: options.tensorName,
      tensor_shape: [options.count, options.dims],
      tensor_path: tensor.relative,
    };
    if (options.metadataPath !== undefined) entry.metadata_path = options.metadataPath;
    if (options.bookmarksPath !== undefined) entry.bookmarks_path = options.bookmarksPath;
    if (options.sprite !== undefined) {
      entry.sprite = {
        image_path: options.sprite.imagePath,
        single_image_dim: [options.sprite.tileWidth, options.sprite.tileHeight],
      };
    }
    await this.addEntry(entry);
    return entry;
  }

  /**
   * Adds `entry` to the config, or replaces the entry with the same `tensor_name`, keeping every
   * other entry. Its paths must be relative, inside the run, and already written.
   */
  async addEntry(entry: EmbeddingInfo): Promise<ProjectorConfig> {
    if (!entry.tensor_name) throw new UserError(`projector entry in ${this.runDir} needs a tensor_name`);
    const normalized: EmbeddingInfo = { ...entry };
    for (const key of ['tensor_path', 'metadata_path', 'bookmarks_path'] as const) {
      if (entry[key] !== undefined) normalized[key] = await this.existing(entry[key]!, entry.tensor_name, key);
    }
    if (entry.sprite?.image_path !== undefined) {
      normalized.sprite = {
        ...entry.sprite,
        image_path: await this.existing(entry.sprite.image_path, entry.tensor_name, 'sprite'),
      };
    }
    return this.update((config) => {
      const embeddings = [...(config.embeddings ?? [])];
      const index = embeddings.findIndex((e) => e.tensor_name === normalized.tensor_name);
      if (index >= 0) embeddings[index] = normalized;
      else embeddings.push(normalized);
      return { ...config, embeddings };
    });
  }

  private async existing(relativePath: string, tensorName: string, what: string): Promise<string> {
    const { relative, absolute } = this.resolve(relativePath);
    try {
      await access(absolute);
    } catch {
      throw new UserError(
        `projector entry '${tensorName}': ${what} ${absolute} does not exist; write it before adding the entry`,
      );
    }
    return relative;
  }

  /** Read, change, write atomically: one update at a time per config file. */
  private update(change: (config: ProjectorConfig) => ProjectorConfig): Promise<ProjectorConfig> {
    const key = resolvePath(this.configPath);
    const previous = pendingUpdates.get(key) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const config = change(await this.readConfig());
        await writeFileAtomic(this.configPath, formatProjectorConfig(config));
        return config;
      });
    pendingUpdates.set(key, next);
    void next
      .finally(() => {
        if (pendingUpdates.get(key) === next) pendingUpdates.delete(key);
      })
      .catch(() => undefined);
    return next;
  }
}
