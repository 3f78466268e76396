import { readFileSync } from 'node:fs';

/**
 * The benchmark chart (`reports/bench.svg`, and the copy shown in BENCHMARKS.md, `docs/bench.svg`) is laid out
 * so that no text runs into other text or into a bar, whatever the names. SVG text does not wrap; widths are
 * estimated generously (Arial's average lowercase letter is about 0.5 em; this takes 0.62 em, 0.68 bold).
 */
type Row = { name: string; rps: number; costPerMillion: number };
type Box = { what: string; x1: number; x2: number; y1: number; y2: number };

const CHART = '../bench/sessions/chart.mjs';
const { benchChart } = (await import(CHART)) as { benchChart: (rows: Row[]) => string };

const estimate = (content: string, size: number, bold: boolean) => content.length * size * (bold ? 0.68 : 0.62);
const unescape = (content: string) => content.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function layout(svg: string) {
  const width = Number(/<svg[^>]* width="([\d.]+)"/.exec(svg)![1]);
  const texts: Box[] = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" font-size="(\d+)"( font-weight="bold")?>([^<]*)<\/text>/g)].map(
    ([, x, y, size, bold, content]) => {
      const text = unescape(content!);
      return { what: text, x1: Number(x), x2: Number(x) + estimate(text, Number(size), Boolean(bold)), y1: Number(y) - Number(size) * 0.8, y2: Number(y) + Number(size) * 0.25 };
    },
  );
  const bars: Box[] = [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)].map(([, x, y, w, h]) => ({
    what: `bar at ${x},${y}`,
    x1: Number(x),
    x2: Number(x) + Number(w),
    y1: Number(y),
    y2: Number(y) + Number(h),
  }));
  return { width, texts, bars, textCount: (svg.match(/<text/g) ?? []).length };
}

const overlap = (a: Box, b: Box) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;

function collisions(svg: string): string[] {
  const { width, texts, bars, textCount } = layout(svg);
  expect(texts.length).toBe(textCount); // every text element was understood
  const found: string[] = [];
  texts.forEach((a, i) => {
    if (a.x1 < 0 || a.x2 > width) found.push(`"${a.what}" runs off the chart`);
    for (const b of texts.slice(i + 1)) if (overlap(a, b)) found.push(`"${a.what}" overlaps "${b.what}"`);
    for (const bar of bars) if (overlap(a, bar)) found.push(`"${a.what}" overlaps the ${bar.what}`);
  });
  return found;
}

const ROWS: Row[] = [
  { name: 'Kura, strict (consistent read per request)', rps: 1211, costPerMillion: 0.126 },
  { name: 'Kura, signed session cache (60 s)', rps: 8194, costPerMillion: 0 },
  { name: 'express-session + connect-dynamodb', rps: 638, costPerMillion: 0.75 },
  { name: '@fastify/session + connect-dynamodb', rps: 708, costPerMillion: 0.75 },
  { name: 'limit: one consistent GetItem, plain Fastify', rps: 1350, costPerMillion: 0.125 },
  { name: 'reference: one consistent GetItem, minimal NestJS', rps: 1150, costPerMillion: 0.125 },
  { name: 'ceiling: plain Fastify, no session', rps: 38_000, costPerMillion: 0 },
];

describe('the benchmark chart', () => {
  it('lays out the systems of npm run bench with no text over other text or over a bar', () => {
    expect(collisions(benchChart(ROWS))).toEqual([]);
  });

  it('wraps a name too long for its column instead of running into the bars', () => {
    const rows = [...ROWS, { name: 'a system with a name far too long to fit on one line of the names column, however wide', rps: 900, costPerMillion: 2.5 }];
    expect(collisions(benchChart(rows))).toEqual([]);
  });

  it('is laid out that way in the copy BENCHMARKS.md shows (docs/bench.svg)', () => {
    expect(collisions(readFileSync('docs/bench.svg', 'utf8'))).toEqual([]);
  });
});
