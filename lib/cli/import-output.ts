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

const SETTINGS: Record<ImportReport['site']['settings'], string> = {
  stored: "stored as the site's settings: every feed takes them",
  unchanged: "already the site's settings",
  kept: "not stored (--keep-settings): the site's settings stay as they are",
  none: "the site's settings on the API stay as they are",
  'dry-run': "would be stored as the site's settings",
};

const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What the site gave, then what became of its files: the lines the command prints at the end. */
export function formatReport(report: ImportReport, dryRun: boolean): string {
  const seconds = report.elapsedMs / 1000;
  const { site } = report;
  const lines = [`Site: ${site.description}; ${SETTINGS[site.settings]}`, `Dates without an offset are read in ${site.timeZone.zone} (${site.timeZone.from})`];
  const notPublished = [
    report.scheduled.length > 0 ? `${report.scheduled.length} scheduled for their dates (dated after now)` : '',
    report.drafts.length > 0 ? `${count(report.drafts.length, 'draft')} left out (published: false)` : '',
  ].filter(Boolean);
  const tail = notPublished.length > 0 ? `; ${notPublished.join(', ')}` : '';
  if (dryRun) {
    lines.push(`Checked ${report.files} files in ${seconds.toFixed(1)} s: ${report.valid.length} would import, ${report.failed.length} failed${tail}`);
  } else {
    const sent = report.created.length + report.updated.length + report.unchanged.length;
    lines.push(
      `Imported ${sent} of ${report.files} files in ${seconds.toFixed(1)} s (${(report.files / Math.max(seconds, 0.001)).toFixed(0)} files/s): ` +
        `${report.created.length} created, ${report.updated.length} updated, ${report.unchanged.length} unchanged, ${report.failed.length} failed${tail}`,
      report.publishedMs !== undefined
        ? `Every feed published ${(report.publishedMs / 1000).toFixed(1)} s after the start (${(report.files / Math.max(report.publishedMs / 1000, 0.001)).toFixed(0)} files/s to published)`
        : 'Not waiting for the feeds (--no-wait): they are rendered once each, shortly.',
    );
  }
  if (report.skipped.length > 0) lines.push(`Not read: ${count(report.skipped.length, 'file')} beside the posts that are not Markdown or HTML (Jekyll copies them as they are)`);
  for (const { id, files } of report.sameId) lines.push(`Same id '${id}': ${files.join(', ')}; only ${files.at(-1)} is imported`);
  if (report.failed.length > 0) {
    lines.push('Failed:');
    for (const f of report.failed) lines.push(`  ${relative(process.cwd(), f.file)}: ${f.reason}`);
  }
  return lines.join('\n');
}
