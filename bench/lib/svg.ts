import type { RampSample } from '../scenarios/scale.js';

/**
 * A small self-contained SVG: server lateness p50 and p99 (left axis, ms) and server RSS
 * (right axis, MB) against clients connected, over the ramp.
 */
export function rampChart(samples: readonly RampSample[]): string {
  const width = 760;
  const height = 380;
  const left = 60;
  const right = 60;
  const top = 40;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const maxClients = Math.max(1, ...samples.map((s) => s.clients));
  const maxLate = niceCeil(Math.max(1, ...samples.map((s) => s.latenessP99Ms)));
  const maxRss = niceCeil(Math.max(1, ...samples.map((s) => s.rssMb)));
  const x = (clients: number): number => left + (clients / maxClients) * plotW;
  const yLate = (ms: number): number => top + plotH - (ms / maxLate) * plotH;
  const yRss = (mb: number): number => top + plotH - (mb / maxRss) * plotH;
  const line = (points: readonly [number, number][], color: string, dash = ''): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" ${dash === '' ? '' : `stroke-dasharray="${dash}" `}points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks
    .map((t) => {
      const y = top + plotH - t * plotH;
      return (
        `<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#ddd"/>` +
        `<text x="${left - 6}" y="${y + 4}" text-anchor="end">${fmt(t * maxLate)}</text>` +
        `<text x="${left + plotW + 6}" y="${y + 4}">${fmt(t * maxRss)}</text>` +
        `<text x="${left + t * plotW}" y="${top + plotH + 18}" text-anchor="middle">${Math.round(t * maxClients)}</text>`
      );
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">Server lateness and memory while clients connect</text>
${grid}
<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>
${line(samples.map((s) => [x(s.clients), yLate(s.latenessP50Ms)]), '#1f77b4')}
${line(samples.map((s) => [x(s.clients), yLate(s.latenessP99Ms)]), '#d62728')}
${line(samples.map((s) => [x(s.clients), yRss(s.rssMb)]), '#2ca02c', '6 4')}
<text x="${left + plotW / 2}" y="${height - 12}" text-anchor="middle">clients connected</text>
<text x="16" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${top + plotH / 2})">lateness (ms)</text>
<text x="${width - 14}" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(90 ${width - 14} ${top + plotH / 2})">RSS (MB)</text>
<g transform="translate(${left + 10},${top + 12})">
<rect width="230" height="58" fill="white" stroke="#ccc"/>
<line x1="8" x2="38" y1="14" y2="14" stroke="#1f77b4" stroke-width="2"/><text x="44" y="18">lateness p50 (per second)</text>
<line x1="8" x2="38" y1="30" y2="30" stroke="#d62728" stroke-width="2"/><text x="44" y="34">lateness p99 (per second)</text>
<line x1="8" x2="38" y1="46" y2="46" stroke="#2ca02c" stroke-width="2" stroke-dasharray="6 4"/><text x="44" y="50">server RSS</text>
</g>
</svg>
`;
}

function niceCeil(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function fmt(value: number): string {
  return value >= 10 ? value.toFixed(0) : value.toFixed(1);
}
