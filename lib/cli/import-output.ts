import { relative } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { ImportReport } from '../import/importer.js';

/**
 * A progress bar with rate and ETA on a terminal; a plain line every tenth of the way otherwise. `what` names the
 * phase and its unit: importing files, then publishing feeds.
 */
export function createProgress(total: number, what: { phase: string; unit: string } = { phase: 'importing', unit: 'files' }) {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${what.phase} {bar} {value}/{total} ${what.unit} | {rate} ${what.unit}/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    });
    const started = performance.now();
    bar.start(total, 0, { rate: '0' });
    return {
      update: (done: number, all = total) => {
        if (all !== bar.getTotal()) bar.setTotal(all);
        bar.update(done, { rate: (done / ((performance.now() - started) / 1000)).toFixed(0) });
      },
      stop: () => bar.stop(),
    };
  }
  let lastStep = -1;
  return {
    update: (done: number, all = total) => {
      const step = Math.floor((done * 10) / Math.max(all, 1));
      if (step === lastStep && done !== all) return;
      lastStep = step;
      process.stderr.write(`${what.phase} ${done}/${all} ${what.unit}\n`);
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
        report.publishedMs !== undefined
          ? `Every feed published ${(report.publishedMs / 1000).toFixed(1)} s after the start (${(report.files / Math.max(report.publishedMs / 1000, 0.001)).toFixed(0)} files/s to published)`
          : 'Not waiting for the feeds (--no-wait): they are rendered once each, shortly.',
      ];
  if (report.failed.length > 0) {
    lines.push('Failed:');
    for (const f of report.failed) lines.push(`  ${relative(process.cwd(), f.file)}: ${f.reason}`);
  }
  return lines.join('\n');
}
