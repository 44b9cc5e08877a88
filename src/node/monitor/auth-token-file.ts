import { readFile } from 'node:fs/promises';

/**
 * The token of `--auth-token-file` (docs/monitor-api.md, "Who may connect"): the file's text
 * without surrounding whitespace, one word of at least 16 characters. Returns the token, or a
 * one-line error that names the option and the file.
 */
export async function readAuthTokenFile(path: string): Promise<{ value: string; error?: undefined } | { value?: undefined; error: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { error: `--auth-token-file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}` };
  }
  const value = text.trim();
  if (value.length < 16 || /\s/.test(value)) return { error: `--auth-token-file ${path}: the token must be one word of at least 16 characters (e.g. head -c 24 /dev/urandom | base64)` };
  return { value };
}
