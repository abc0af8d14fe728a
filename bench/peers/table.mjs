// Prints bench/peers.sh's results as a Markdown table with MB/s, peak RSS and ratios.
import { readFileSync, statSync } from 'node:fs';

const [file, results] = process.argv.slice(2);
const mb = statSync(file).size / 1e6;
const rows = readFileSync(results, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const ms = (name) => rows.find((r) => r.row.startsWith(name))?.ms;
const wasm24Row = rows.filter((r) => r.row.startsWith('ours: wasm')).at(-1);
const wasm24 = wasm24Row?.ms;
console.log(`Input: ${file}, ${mb.toFixed(1)} MB; best of ${process.env.ROUNDS || 3} rounds; RSS is the process peak.\n`);
console.log('| what | tests counted | time | MB/s | peak RSS | ours (wasm, newest node) is faster by |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const ours = r.row.startsWith('ours') || r.row.startsWith('native') || r.row.startsWith('raw');
  const ratio = ours ? '' : `${(r.ms / wasm24).toFixed(1)}×`;
  const rss = `${(r.rss_kb / 1024).toFixed(0)} MB`;
  console.log(`| ${r.row} | ${r.tests} | ${(r.ms / 1e3).toFixed(2)} s | ${(mb / (r.ms / 1e3)).toFixed(0)} | ${rss} | ${ratio} |`);
}
const raw = ms('raw');
const native = ms('native parse (file)');
const nativeAction = ms("native: the action's work");
if (raw && native && wasm24 && nativeAction) {
  console.log(`\nnative parse / raw pass: ${((raw / native) * 100).toFixed(0)}% of the raw throughput (target ≥ 50%)`);
  console.log(`wasm / native, the same work (parse, summary, CTRF): ${((nativeAction / wasm24) * 100).toFixed(0)}% of native throughput (target ≥ 60%)`);
  console.log(`wasm's first call (V8 compiles the hot loop on the way; the action calls once): ${(wasm24Row.first_ms / 1e3).toFixed(2)} s`);
}
console.log('(native rows share one process, so their RSS is that process\'s peak)');
