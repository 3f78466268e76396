// Two bar charts as SVG, one row per system on the hot path: requests per second, and on-demand cost per
// million requests. No dependencies: a few rectangles.
const escape = (text) => String(text).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);

export function benchChart(rows) {
  const width = 900;
  const left = 330;
  const span = (width - left - 160) / 2;
  const maxRps = Math.max(...rows.map((row) => row.rps), 1);
  const maxCost = Math.max(...rows.map((row) => row.costPerMillion), 0.001);
  const bars = rows.map((row, index) => {
    const y = 70 + index * 34;
    const rpsWidth = (Math.log10(Math.max(row.rps, 1)) / Math.log10(maxRps)) * (span - 20); // log scale: the ceiling is 30x the rest
    const costWidth = (row.costPerMillion / maxCost) * (span - 20);
    const costX = left + span + 60;
    return `
  <text x="10" y="${y + 15}" font-size="12">${escape(row.name)}</text>
  <rect x="${left}" y="${y}" width="${rpsWidth.toFixed(1)}" height="20" fill="#1565c0"/>
  <text x="${left + rpsWidth + 4}" y="${y + 15}" font-size="11">${Math.round(row.rps)}</text>
  <rect x="${costX}" y="${y}" width="${Math.max(costWidth, 1).toFixed(1)}" height="20" fill="#ef6c00"/>
  <text x="${costX + Math.max(costWidth, 1) + 4}" y="${y + 15}" font-size="11">$${row.costPerMillion.toFixed(3)}</text>`;
  });
  const height = 90 + rows.length * 34;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="white"/>
  <text x="10" y="26" font-size="16" font-weight="bold">Authenticated GET /auth/me (npm run bench)</text>
  <text x="${left}" y="56" font-size="12" font-weight="bold">requests per second, log scale (higher is better)</text>
  <text x="${left + span + 60}" y="56" font-size="12" font-weight="bold">$ per million requests (lower is better)</text>${bars.join('')}
</svg>
`;
}
