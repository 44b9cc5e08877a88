import { dirname } from 'node:path';

/**
 * One-line text for a failed file operation on `path`, naming the user's path (never a
 * temporary file the operation used) and the reason in words rather than a raw errno string.
 */
export function fileErrorText(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return `${path}: no such file or directory`;
    case 'EISDIR':
      return `${path}: is a directory`;
    case 'ENOTDIR':
      return `${path}: a component of the path is not a directory`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied`;
    case 'EROFS':
      return `${path}: read-only file system`;
    case 'ENOSPC':
      return `${path}: no space left on the device`;
    default:
      return `${path}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** As fileErrorText, for writing `path`: a missing folder is named as such. */
export function writeErrorText(path: string, error: unknown): string {
  if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return `${path}: no such directory: ${dirname(path)}`;
  return fileErrorText(path, error);
}
