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

/**
 * Turns a Node file-system error into one actionable line about `path`. What to do depends on
 * whether the command was reading (`action` starts with read, list, open or load: fix the
 * permissions) or writing (choose another place).
 */
export function describeFsError(error: unknown, action: string, path: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reading = /^(read|list|open|load)\b/.test(action);
  const what = `cannot ${action} ${path}`;
  switch (code) {
    case 'ENOENT':
      return `${what}: it does not exist; check the path`;
    case 'EACCES':
    case 'EPERM':
      return reading
        ? `${what}: permission denied; make it readable for this user (chmod, chown) or run as a user who can read it`
        : `${what}: permission denied; choose a directory you can write to`;
    case 'EROFS':
      return `${what}: the file system is read-only; choose another directory`;
    case 'ENOSPC':
      return `${what}: the disk is full; free some space and start again`;
    case 'ENOTDIR':
      return `${what}: a part of the path is a file, not a directory; check the path`;
    case 'EISDIR':
      return `${what}: it is a directory, not a file; check the path`;
    case 'EMFILE':
    case 'ENFILE':
      return `${what}: too many open files; close other programs or raise the limit (ulimit -n), then start again`;
    case 'EIO':
      return `${what}: input/output error; check the disk (or network file system) and start again`;
    default:
      return `${what}: ${(error as Error | undefined)?.message ?? String(error)}`;
  }
}

/**
 * A failure that may pass by itself: a checkpoint folder seen in the moment before its files
 * exist, a file another process is still writing or has not yet made readable. The watcher does
 * not record it as a skip; it tries the same step again later.
 */
export class TransientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientError';
  }
}

export function isTransientError(error: unknown): error is TransientError {
  return error instanceof TransientError;
}
