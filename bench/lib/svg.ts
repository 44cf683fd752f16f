interface Point {
  stored: number;
  regenP50: number;
  regenP95: number;
}

/** A small SVG line chart: regeneration time (p50, p95) against posts stored, log scale on x. */
export function latencyChart(rows: Point[]): string {
  const W = 640;
  const H = 360;
  const pad = { left: 60, right: 50, top: 40, bottom: 50 };
  const xs = rows.map((r) => Math.log10(r.stored));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const yMax = Math.max(...rows.map((r) => r.regenP95)) * 1.2 || 1;
  const x = (stored: number) => pad.left + ((Math.log10(stored) - xMin) / (xMax - xMin || 1)) * (W - pad.left - pad.right);
  const y = (ms: number) => H - pad.bottom - (ms / yMax) * (H - pad.top - pad.bottom);
  const line = (key: 'regenP50' | 'regenP95', color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${rows.map((r) => `${x(r.stored).toFixed(1)},${y(r[key]).toFixed(1)}`).join(' ')}"/>` +
    rows.map((r) => `<circle cx="${x(r.stored).toFixed(1)}" cy="${y(r[key]).toFixed(1)}" r="4" fill="${color}"><title>${r.stored} posts: ${r[key]} ms</title></circle>`).join('');
  const yTicks = Array.from({ length: 5 }, (_, i) => (yMax / 4) * i);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">Regenerating one feed against posts stored (ms)</text>
${yTicks.map((t) => `<line x1="${pad.left}" x2="${W - pad.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/><text x="${pad.left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${Math.round(t)}</text>`).join('\n')}
${rows.map((r) => `<text x="${x(r.stored).toFixed(1)}" y="${H - pad.bottom + 18}" text-anchor="middle">${r.stored.toLocaleString('en')}</text>`).join('\n')}
<text x="${W / 2}" y="${H - 10}" text-anchor="middle">posts stored (log scale)</text>
${line('regenP50', '#0b62c4')}
${line('regenP95', '#c4410b')}
<text x="${W - pad.right - 90}" y="${pad.top + 4}" fill="#0b62c4">p50</text><text x="${W - pad.right - 50}" y="${pad.top + 4}" fill="#c4410b">p95</text>
</svg>
`;
}
