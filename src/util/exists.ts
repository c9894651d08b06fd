import { stat } from 'node:fs/promises';

/** Whether `path` exists (file or directory). Any error, a missing parent or no permission included, is "no". */
export function pathExists(path: string | URL): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
