// A bar chart as SVG: for each row, a share kept (green) and a share failed (red). No dependencies: it is a few
// rectangles. kura-check's --report draws one per balancer and phase; npm run prove one per design.
const escape = (text) => String(text).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);

/** rows: { name, keptPercent, failedPercent }; labels say what the two shares are. */
export function keptChart(rows, { title, kept = 'kept their session', failed = 'of requests: unexpected 401' }) {
  const width = 760;
  const barHeight = 22;
  const left = 250;
  const scale = (width - left - 190) / 100; // room for the label after a full bar
  const groups = rows.map(({ name, keptPercent, failedPercent }, index) => {
    const y = 60 + index * 70;
    return `
  <text x="10" y="${y + 16}" font-size="13">${escape(name)}</text>
  <rect x="${left}" y="${y}" width="${(keptPercent * scale).toFixed(1)}" height="${barHeight}" fill="#2e7d32"/>
  <text x="${left + keptPercent * scale + 6}" y="${y + 16}" font-size="12">${keptPercent.toFixed(0)}% ${escape(kept)}</text>
  <rect x="${left}" y="${y + barHeight + 4}" width="${(failedPercent * scale).toFixed(1)}" height="${barHeight / 2}" fill="#c62828"/>
  <text x="${left + failedPercent * scale + 6}" y="${y + barHeight + 14}" font-size="11">${failedPercent.toFixed(1)}% ${escape(failed)}</text>`;
  });
  const height = 80 + rows.length * 70;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="white"/>
  <text x="10" y="28" font-size="16" font-weight="bold">${escape(title)}</text>${groups.join('')}
</svg>
`;
}
