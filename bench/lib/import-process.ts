import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { importPosts, type ImportOptions, type ImportReport } from '../../lib/import/importer.js';

/**
 * `importPosts` (what `npx feedpub import` runs) in a process of its own, as a publisher runs it: its reading and
 * parsing of the files is not done on the event loop of the stack it imports into (here, the benchmark's own). The
 * report, with when the import began (epoch ms, the child's clock: the same machine's).
 */
export function importInProcess(files: string[], options: Pick<ImportOptions, 'api' | 'key'>): Promise<{ startedAt: number; report: ImportReport }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(import.meta.dirname, 'import-process.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    // A child that ended before reading its input is reported by 'close' below, not by a write error.
    child.stdin.on('error', () => undefined);
    // 'close', not 'exit': the report (a few MB for 20,000 files) may still be in the pipe when the child exits.
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as { startedAt: number; report: ImportReport });
      } catch {
        reject(new Error(`the import process ended with ${code} and no report: ${out.slice(-500)}`));
      }
    });
    child.stdin.end(JSON.stringify({ files, options }));
  });
}

// Run as the child: the files and options on standard input, the result as the last line of standard output.
if (process.argv[1] === import.meta.filename) {
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => (input += chunk));
  process.stdin.on('end', async () => {
    const { files, options } = JSON.parse(input) as { files: string[]; options: Pick<ImportOptions, 'api' | 'key'> };
    const startedAt = performance.timeOrigin + performance.now();
    const report = await importPosts(files, options);
    process.stdout.write(`\n${JSON.stringify({ startedAt, report })}\n`);
  });
}
