/** The PyTorch fixture runs (../shared/fixtures/pytorch, read-only) and writable copies of them. */
import { chmod, cp, mkdtemp, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { SHARED_DIR } from '../../helpers/requirements.ts';

export const PYTORCH_RUNS = join(SHARED_DIR, 'fixtures', 'pytorch');

export function temporaryDir(prefix = 'projector-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

async function makeWritable(path: string): Promise<void> {
  await chmod(path, 0o755);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeWritable(join(path, entry.name));
    else await chmod(join(path, entry.name), 0o644);
  }
}

/** A writable copy of fixture run `name` at `dest`. */
export async function copyRun(name: string, dest: string): Promise<string> {
  await cp(join(PYTORCH_RUNS, name), dest, { recursive: true });
  await makeWritable(dest);
  return dest;
}

export async function writeText(path: string, text: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

/** SHA-256 of every file under `dir` (relative path → hash), skipping `except` folders. */
export async function checksums(dir: string, except: string[] = []): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (except.includes(path)) continue;
      if (entry.isDirectory()) await walk(path);
      else
        out.set(
          path,
          createHash('sha256')
            .update(await readFile(join(dir, path)))
            .digest('hex'),
        );
    }
  };
  await walk('');
  return out;
}

/** A PyTorch-style entry of projector_config.pbtxt. */
export function pytorchEntry(
  tag: string,
  step: number,
  options: { sprite?: [number, number]; folderTag?: string } = {},
): string {
  const folder = `${String(step).padStart(5, '0')}/${options.folderTag ?? tag}`;
  const sprite = options.sprite
    ? `  sprite {\n    image_path: "${folder}/sprite.png"\n    single_image_dim: ${options.sprite[0]}\n    ` +
      `single_image_dim: ${options.sprite[1]}\n  }\n`
    : '';
  return (
    `embeddings {\n  tensor_name: "${tag}:${String(step).padStart(5, '0')}"\n  metadata_path: ` +
    `"${folder}/metadata.tsv"\n` +
    `${sprite}  tensor_path: "${folder}/tensors.tsv"\n}\n`
  );
}
