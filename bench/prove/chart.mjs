// A bar chart of the prove results as SVG: for each design, the share of users who kept their session and
// the share of requests that got an unexpected 401. No dependencies: it is a few rectangles.
const escape = (text) => String(text).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);

export function proveChart(rows) {
  const width = 760;
  const barHeight = 22;
  const left = 250;
  const scale = (width - left - 190) / 100; // room for the label after a full bar
  const groups = rows.map(({ name, keptPercent, unexpected401Percent }, index) => {
    const y = 60 + index * 70;
    return `
  <text x="10" y="${y + 16}" font-size="13">${escape(name)}</text>
  <rect x="${left}" y="${y}" width="${(keptPercent * scale).toFixed(1)}" height="${barHeight}" fill="#2e7d32"/>
  <text x="${left + keptPercent * scale + 6}" y="${y + 16}" font-size="12">${keptPercent.toFixed(0)}% kept their session</text>
  <rect x="${left}" y="${y + barHeight + 4}" width="${(unexpected401Percent * scale).toFixed(1)}" height="${barHeight / 2}" fill="#c62828"/>
  <text x="${left + unexpected401Percent * scale + 6}" y="${y + barHeight + 14}" font-size="11">${unexpected401Percent.toFixed(1)}% of requests: unexpected 401</text>`;
  });
  const height = 80 + rows.length * 70;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="white"/>
  <text x="10" y="28" font-size="16" font-weight="bold">Sessions on replicas: kills and a rolling restart (npm run prove)</text>${groups.join('')}
</svg>
`;
}
