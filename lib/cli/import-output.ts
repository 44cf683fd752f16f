import { relative } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { ImportReport } from '../import/importer.js';

/** A progress bar with rate and ETA on a terminal; a plain line every tenth of the way otherwise. */
export function createProgress(total: number) {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: 'importing {bar} {value}/{total} files | {rate} files/s | ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
    });
    const started = performance.now();
    bar.start(total, 0, { rate: '0' });
    return {
      update: (done: number) => bar.update(done, { rate: (done / ((performance.now() - started) / 1000)).toFixed(0) }),
      stop: () => bar.stop(),
    };
  }
  const step = Math.max(1, Math.ceil(total / 10));
  return {
    update: (done: number, all: number) => {
      if (done % step === 0 || done === all) process.stderr.write(`imported ${done}/${all} files\n`);
    },
    stop: () => undefined,
  };
}

export function formatReport(report: ImportReport, dryRun: boolean): string {
  const seconds = report.elapsedMs / 1000;
  const ok = report.files - report.failed.length;
  const lines = dryRun
    ? [`Checked ${report.files} files in ${seconds.toFixed(1)} s: ${report.valid.length} would import, ${report.failed.length} failed`]
    : [
        `Imported ${ok} of ${report.files} files in ${seconds.toFixed(1)} s (${(report.files / Math.max(seconds, 0.001)).toFixed(0)} files/s): ` +
          `${report.created.length} created, ${report.updated.length} updated, ${report.unchanged.length} unchanged, ${report.failed.length} failed`,
      ];
  if (report.failed.length > 0) {
    lines.push('Failed:');
    for (const f of report.failed) lines.push(`  ${relative(process.cwd(), f.file)}: ${f.reason}`);
  }
  return lines.join('\n');
}
