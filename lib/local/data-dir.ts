import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateKey } from '../keys/key-format.js';

/** The local data directory: DynamoDB Local's files, s3rver's files, the stream position and the local key. */
export function dataDirectory(env = process.env): string {
  const dir = resolve(env.FEEDPUB_DATA_DIR ?? '.feedpub');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** FEEDPUB_API_KEY, else the key kept in the data directory, else a new one kept there (mode 600). */
export function localApiKey(dir: string, env = process.env): { key: string; source: string } {
  if (env.FEEDPUB_API_KEY) return { key: env.FEEDPUB_API_KEY, source: 'FEEDPUB_API_KEY' };
  const file = join(dir, 'api-key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), source: file };
  const key = generateKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, source: `${file} (new)` };
}
