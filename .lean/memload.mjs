const spec = process.argv[2];
const before = process.memoryUsage().rss;
if (spec !== 'none') for (const s of spec.split(',')) await import(s);
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 500));
globalThis.gc?.();
const m = process.memoryUsage();
console.log(spec.padEnd(60), 'rss', ((m.rss) / 1048576).toFixed(1), 'heapUsed', (m.heapUsed / 1048576).toFixed(1));
