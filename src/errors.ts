/**
 * A mistake the user can fix: a bad path, a corrupt file, a wrong size, an unwritable directory.
 * The CLI prints `message` as one line (what, where, what to do) and never a stack trace.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/** Turns a Node file-system error into one actionable line about `path`. */
export function describeFsError(error: unknown, action: string, path: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return `cannot ${action} ${path}: it does not exist; check the path`;
    case 'EACCES':
    case 'EPERM':
      return `cannot ${action} ${path}: permission denied; choose a directory you can write to`;
    case 'EROFS':
      return `cannot ${action} ${path}: the file system is read-only; choose another directory`;
    case 'ENOSPC':
      return `cannot ${action} ${path}: the disk is full; free some space and start again`;
    case 'ENOTDIR':
      return `cannot ${action} ${path}: a part of the path is a file, not a directory`;
    case 'EISDIR':
      return `cannot ${action} ${path}: it is a directory, not a file`;
    default:
      return `cannot ${action} ${path}: ${(error as Error | undefined)?.message ?? String(error)}`;
  }
}
