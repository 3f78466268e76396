// Two bar charts as SVG, one row per system on the hot path: requests per second, and on-demand cost per
// million requests. No dependencies: a few rectangles. SVG text does not wrap by itself, so every label is
// wrapped here to the width of its column, measured with a generous estimate of a character's width (wider
// than the usual sans-serif fonts' average): headings and names never run into each other or into the bars.
const escape = (text) => String(text).replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]);

/** A generous width estimate for sans-serif text, in pixels. */
export const textWidth = (text, fontSize, bold = false) => text.length * fontSize * (bold ? 0.68 : 0.62);

/** Greedy word wrap of each phrase to `maxWidth`; a phrase always starts a line of its own. */
function wrap(phrases, maxWidth, fontSize, bold = false) {
  const lines = [];
  for (const phrase of phrases) {
    let line = '';
    for (const word of phrase.split(' ')) {
      const candidate = line ? `${line} ${word}` : word;
      if (line && textWidth(candidate, fontSize, bold) > maxWidth) {
        lines.push(line);
        line = word;
      } else {
        line = candidate;
      }
    }
    lines.push(line);
  }
  return lines;
}

const text = (x, y, size, content, bold = false) =>
  `\n  <text x="${x}" y="${y}" font-size="${size}"${bold ? ' font-weight="bold"' : ''}>${escape(content)}</text>`;

export function benchChart(rows) {
  const width = 900;
  const labelX = 10;
  const rpsX = 300; // the names' column is 10..290
  const column = (width - rpsX - 10) / 2; // each chart's column, bar and value label
  const costX = rpsX + column;
  const barMax = column - 80; // room after the longest bar for its value label and a gap
  const lineHeight = 15;
  const maxRps = Math.max(...rows.map((row) => row.rps), 1);
  const maxCost = Math.max(...rows.map((row) => row.costPerMillion), 0.001);

  const headings = [
    { x: rpsX, lines: wrap(['requests per second, log scale', '(higher is better)'], column - 20, 12, true) },
    { x: costX, lines: wrap(['$ per million requests', '(lower is better)'], column - 20, 12, true) },
  ];
  const headingTop = 52;
  let y = headingTop + Math.max(...headings.map((h) => h.lines.length)) * lineHeight;
  const parts = [text(labelX, 26, 16, 'Authenticated GET /auth/me (npm run bench)', true)];
  for (const { x, lines } of headings) lines.forEach((line, i) => parts.push(text(x, headingTop + i * lineHeight, 12, line, true)));

  for (const row of rows) {
    const names = wrap([row.name], rpsX - labelX - 10, 12);
    const rowHeight = Math.max(34, names.length * 14 + 10);
    const barY = y + (rowHeight - 20) / 2 - 2;
    names.forEach((line, i) => parts.push(text(labelX, barY + 15 - ((names.length - 1) * 14) / 2 + i * 14, 12, line)));
    const rpsWidth = (Math.log10(Math.max(row.rps, 1)) / Math.log10(Math.max(maxRps, 10))) * barMax; // log: the ceiling is 30x the rest
    const costWidth = Math.max((row.costPerMillion / maxCost) * barMax, 1);
    parts.push(`\n  <rect x="${rpsX}" y="${barY}" width="${rpsWidth.toFixed(1)}" height="20" fill="#1565c0"/>`);
    parts.push(text((rpsX + rpsWidth + 4).toFixed(1), barY + 15, 11, String(Math.round(row.rps))));
    parts.push(`\n  <rect x="${costX}" y="${barY}" width="${costWidth.toFixed(1)}" height="20" fill="#ef6c00"/>`);
    parts.push(text((costX + costWidth + 4).toFixed(1), barY + 15, 11, `$${row.costPerMillion.toFixed(3)}`));
    y += rowHeight;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.ceil(y + 16)}" font-family="sans-serif">
  <rect width="100%" height="100%" fill="white"/>${parts.join('')}
</svg>
`;
}
