import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ProjectorWriter,
  UserError,
  decodePng,
  formatFloat32,
  formatProjectorConfig,
  metadataTsv,
  parseProjectorConfig,
  spriteGrid,
  spritePng,
  writeMetadataTsv,
  writeSprite,
} from '../../src/tensorboard/index.ts';
import { FIXTURE_DIR } from './helpers/fixtures.ts';
import { needs } from '../helpers/requirements.ts';

const FIXTURE_CONFIG = needs('shared')
  ? ''
  : readFileSync(join(FIXTURE_DIR, 'projector', 'projector_config.pbtxt'), 'utf8');

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tb-projector-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the fixture's projector_config.pbtxt parses, and prints back to the same text", { skip: needs('shared') }, () => {
  const config = parseProjectorConfig(FIXTURE_CONFIG);
  assert.deepEqual(config, {
    embeddings: [
      {
        tensor_name: 'embedding:step-000000512',
        metadata_path: 'metadata.tsv',
        tensor_shape: [16, 4],
        sprite: { image_path: 'sprite.png', single_image_dim: [8, 8] },
        tensor_path: 'tensors.tsv',
      },
    ],
  });
  assert.equal(formatProjectorConfig(config), FIXTURE_CONFIG);
});

test('text format parsing accepts comments, lists, <> blocks, escapes; errors name line and column', () => {
  const text = [
    '# written by hand',
    'model_checkpoint_dir: "ckpt"',
    'embeddings <',
    '  tensor_name: \'caf\\303\\251 "x"\' ',
    '  tensor_shape: [3, 2]',
    '  sprite: { image_path: "a" "b.png"; single_image_dim: 4 single_image_dim: 4 }',
    '>',
  ].join('\n');
  assert.deepEqual(parseProjectorConfig(text), {
    model_checkpoint_dir: 'ckpt',
    embeddings: [
      { tensor_name: 'café "x"', tensor_shape: [3, 2], sprite: { image_path: 'ab.png', single_image_dim: [4, 4] } },
    ],
  });
  // Non-ASCII and quotes are escaped as Python's text_format does, and read back the same.
  const printed = formatProjectorConfig({ embeddings: [{ tensor_name: 'café "x"\n' }] });
  assert.equal(printed, 'embeddings {\n  tensor_name: "caf\\303\\251 \\"x\\"\\n"\n}\n');
  assert.deepEqual(parseProjectorConfig(printed), { embeddings: [{ tensor_name: 'café "x"\n' }] });

  const bad = (source: string, message: RegExp) =>
    assert.throws(
      () => parseProjectorConfig(source, 'cfg.pbtxt'),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.match(error.message, message);
        return true;
      },
    );
  bad('embeddings {\n  tensor_nam: "x"\n}', /^cfg\.pbtxt:2:3: EmbeddingInfo has no field 'tensor_nam'/);
  bad('embeddings {\n  tensor_shape: -1\n}', /^cfg\.pbtxt:2:17: 'tensor_shape' needs a non-negative integer/);
  bad('embeddings {\n  tensor_name: "x"\n', /missing '}'/);
  bad('model_checkpoint_dir: "a"\nmodel_checkpoint_dir: "b"', /:2:1: 'model_checkpoint_dir' appears twice/);
  bad('model_checkpoint_dir: "open', /:1:23: string not closed/);
});

test('metadata TSV header rule: one column has no header row, three columns do', { skip: needs('shared') }, () =>
  withTempDir(async (dir) => {
    await writeMetadataTsv(join(dir, 'one.tsv'), ['label'], [['cat'], ['dog'], ['cat']]);
    assert.equal(readFileSync(join(dir, 'one.tsv'), 'utf8'), 'cat\ndog\ncat\n');
    assert.equal(
      readFileSync(join(dir, 'one.tsv'), 'utf8'),
      readFileSync(join(FIXTURE_DIR, 'projector', 'metadata_one_column.tsv'), 'utf8')
        .split('\n')
        .slice(0, 3)
        .join('\n') + '\n',
    );
    await writeMetadataTsv(
      join(dir, 'three.tsv'),
      ['label', 'index', 'correct'],
      [
        ['cat', '0', 'yes'],
        ['dog\there', '1', 'no'],
      ],
    );
    assert.equal(readFileSync(join(dir, 'three.tsv'), 'utf8'), 'label\tindex\tcorrect\ncat\t0\tyes\ndog here\t1\tno\n');
    assert.throws(
      () => metadataTsv(['a', 'b'], [['1', '2'], ['3']]),
      /metadata row 1 has 1 cells but the header has 2/,
    );
  }),
);

test('sprites are square grids filled row by row; an oversize sprite says how many points fit', () =>
  withTempDir(async (dir) => {
    // 5 tiles of 2×1 px, RGB: a 3×3 grid of 6×3 px, tile t filled with the value t + 1.
    const tiles = Uint8Array.from({ length: 5 * 2 * 1 * 3 }, (_, i) => Math.floor(i / 6) + 1);
    const grid = await writeSprite(join(dir, 'sprite.png'), tiles, 5, 2, 1);
    assert.deepEqual(grid, { side: 3, width: 6, height: 3 });
    const decoded = decodePng(readFileSync(join(dir, 'sprite.png')));
    assert.deepEqual([decoded.width, decoded.height, decoded.channels], [6, 3, 3]);
    const tileAt = (x: number, y: number) => decoded.pixels[(y * 6 + x) * 3]!;
    assert.deepEqual(
      [0, 2, 4].map((x) => tileAt(x, 0)),
      [1, 2, 3],
    );
    assert.deepEqual(
      [0, 2, 4].map((x) => tileAt(x, 1)),
      [4, 5, 0],
    );
    assert.deepEqual(
      [0, 2, 4].map((x) => tileAt(x, 2)),
      [0, 0, 0],
    );
    // RGBA stays RGBA (empty cells transparent).
    assert.equal(decodePng(spritePng(new Uint8Array(2 * 4 * 4 * 4).fill(9), 2, 4, 4).png).channels, 4);

    assert.deepEqual(spriteGrid(65_536, 32, 32), { side: 256, width: 8192, height: 8192 });
    assert.throws(
      () => spriteGrid(65_537, 32, 32),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.equal(
          error.message,
          "sprite of 65537 tiles of 32×32 px would be 8224×8224 px, over TensorBoard's 8192×8192 limit; at most " +
            '65536 points fit at this tile size: use fewer points or smaller tiles',
        );
        return true;
      },
    );
    assert.throws(() => spriteGrid(5000, 100, 200), /at most 1600 points fit/);
    assert.throws(() => spritePng(new Uint8Array(7), 2, 2, 2), /is not 2 RGB or RGBA tiles/);
    assert.ok(!existsSync(join(dir, 'never.png')));
  }));

test('float32 values are written with the fewest digits that read back exactly', () => {
  for (const value of [0, 1, -2.5, 0.1, 1 / 3, 123456.789, 1e-7, -3.4028234663852886e38, 2.04092]) {
    const text = formatFloat32(value);
    assert.equal(Math.fround(Number(text)), Math.fround(value), `${value} -> ${text}`);
    assert.ok(text.replace(/^-|\.|e.*$/g, '').replace(/^0+/, '').length <= 9, text);
  }
  assert.equal(formatFloat32(0.1), '0.1');
  assert.equal(formatFloat32(2.04092), '2.04092');
});

test('ProjectorWriter: a small embedding written and read back gives the same config; entries are kept', () =>
  withTempDir(async (run) => {
    const projector = new ProjectorWriter(run);
    const labels = ['cat', 'dog', 'cat', 'ship'];
    const metadataPath = await projector.writeMetadata(
      'metadata.tsv',
      ['label', 'index'],
      labels.map((label, i) => [label, String(i)]),
    );
    const sprite = await projector.writeSprite('sprite.png', new Uint8Array(4 * 8 * 8 * 3).fill(128), 4, 8, 8);
    const values = Float32Array.from({ length: 4 * 3 }, (_, i) => Math.sin(i) * 2);

    const first = await projector.addEmbedding({
      tensorName: 'embedding:step-000000512',
      values,
      count: 4,
      dims: 3,
      metadataPath,
      sprite: { imagePath: sprite.image_path!, tileWidth: 8, tileHeight: 8 },
    });
    assert.deepEqual(first, {
      tensor_name: 'embedding:step-000000512',
      tensor_shape: [4, 3],
      tensor_path: 'embeddings/embedding_step-000000512.tsv',
      metadata_path: 'metadata.tsv',
      sprite: { image_path: 'sprite.png', single_image_dim: [8, 8] },
    });
    // A second process (a new writer object) adds the next step without losing the first.
    await new ProjectorWriter(run).addEmbedding({
      tensorName: 'embedding:step-000001024',
      values,
      count: 4,
      dims: 3,
      metadataPath,
    });
    const text = readFileSync(join(run, 'projector_config.pbtxt'), 'utf8');
    const config = parseProjectorConfig(text);
    assert.deepEqual(
      config.embeddings!.map((e) => e.tensor_name),
      ['embedding:step-000000512', 'embedding:step-000001024'],
    );
    assert.deepEqual(config.embeddings![0], first);
    assert.deepEqual(await projector.readConfig(), config);
    assert.equal(formatProjectorConfig(config), text);

    const rows = readFileSync(join(run, first.tensor_path!), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t').map(Number));
    assert.deepEqual(rows.flat().map(Math.fround), [...values]);
    assert.equal(readFileSync(join(run, 'metadata.tsv'), 'utf8'), 'label\tindex\ncat\t0\ndog\t1\ncat\t2\nship\t3\n');

    // Re-adding a name replaces its entry in place; no temporary files are left behind.
    await projector.addEmbedding({
      tensorName: 'embedding:step-000000512',
      values: values.slice(0, 6),
      count: 2,
      dims: 3,
    });
    const again = await projector.readConfig();
    assert.deepEqual(
      again.embeddings!.map((e) => [e.tensor_name, e.tensor_shape]),
      [
        ['embedding:step-000000512', [2, 3]],
        ['embedding:step-000001024', [4, 3]],
      ],
    );
    assert.deepEqual(
      readdirSync(run).filter((name) => name.endsWith('.tmp')),
      [],
    );
  }));

test('concurrent addEmbedding calls in one process lose no entry', () =>
  withTempDir(async (run) => {
    const writers = [new ProjectorWriter(run), new ProjectorWriter(run)];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        writers[i % 2]!.addEmbedding({ tensorName: `e${i}`, values: [i, i], count: 1, dims: 2 }),
      ),
    );
    const names = (await writers[0]!.readConfig()).embeddings!.map((e) => e.tensor_name).sort();
    assert.deepEqual(names, Array.from({ length: 12 }, (_, i) => `e${i}`).sort());
  }));

test('projector paths must stay inside the run and exist; bad tensors are refused', () =>
  withTempDir(async (run) => {
    const projector = new ProjectorWriter(run);
    const add = (options: Partial<Parameters<ProjectorWriter['addEmbedding']>[0]>) =>
      projector.addEmbedding({ tensorName: 't', values: [1, 2], count: 1, dims: 2, ...options });
    await assert.rejects(
      add({ tensorPath: '../outside.tsv' }),
      /projector path '..\/outside.tsv' must be a file path relative to/,
    );
    await assert.rejects(add({ tensorPath: '/abs.tsv' }), /must be a file path relative/);
    await assert.rejects(
      add({ metadataPath: 'missing.tsv' }),
      /metadata_path .*missing.tsv does not exist; write it before adding the entry/,
    );
    await assert.rejects(add({ values: [1, NaN] }), /value NaN at point 0, dimension 1/);
    await assert.rejects(add({ values: [1, 2, 3] }), /got 3 values for 1 points × 2 dimensions/);
    writeFileSync(join(run, 'projector_config.pbtxt'), 'embeddings {\n  bogus: 1\n}\n');
    await assert.rejects(add({}), /projector_config.pbtxt:2:3: EmbeddingInfo has no field 'bogus'/);
  }));
