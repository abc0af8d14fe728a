// Prints bench/peers.sh's results as a Markdown table with MB/s, tests/s, peak RSS and ratios.
import { readFileSync, statSync } from 'node:fs';

const [file, results] = process.argv.slice(2);
const mb = statSync(file).size / 1e6;
// One line per row and pass: a row's best time over the passes, its highest peak, and the median
// of its first calls (each pass is a fresh process, whose first call is what the action runs).
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const rows = [];
for (const line of readFileSync(results, 'utf8').trim().split('\n')) {
  const r = JSON.parse(line);
  const seen = rows.find((row) => row.row === r.row);
  if (!seen) {
    rows.push({ ...r, firsts: r.first_ms === undefined ? [] : [r.first_ms] });
    continue;
  }
  seen.ms = Math.min(seen.ms, r.ms);
  seen.rss_kb = Math.max(seen.rss_kb, r.rss_kb);
  if (r.first_ms !== undefined) seen.firsts.push(r.first_ms);
}
for (const r of rows) r.first_ms = r.firsts.length ? median(r.firsts) : undefined;
const rowOf = (name) => rows.find((r) => r.row.startsWith(name));
const ms = (name) => rowOf(name)?.ms;
const wasmRows = rows.filter((r) => r.row.startsWith('ours: wasm'));
// The action's whole work on the newest Node, and the parse + summary alone (issue 12's measure).
const partRow = wasmRows.find((r) => r.row.endsWith('parse + summary only'));
const wholeRow = wasmRows.filter((r) => r !== partRow).at(-1);
const ratio = (r, ours) => (ours ? `${(r.ms / ours.ms).toFixed(1)}×` : '');
const passes = process.env.PASSES || 1;
console.log(
  `Input: ${file}, ${mb.toFixed(1)} MB; best of ${process.env.ROUNDS || 3} calls in each of ${passes} processes per row, ` +
    'the rows interleaved; RSS is the highest process peak.\n',
);
console.log(
  "| what | tests counted | time | MB/s | tests/s | peak RSS | faster: ours, the action's work | faster: ours, parse + summary | first call | faster at the first call: the action's work |",
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
// The action calls the core once per job, so a fresh process's first call is what users wait for;
// the peers' first calls are timed the same way (median over the passes).
const firstCall = (r) => (r.first_ms === undefined ? '' : `${(r.first_ms / 1e3).toFixed(2)} s`);
const firstRatio = (r, ours) =>
  r.first_ms === undefined || ours?.first_ms === undefined ? '' : `${(r.first_ms / ours.first_ms).toFixed(1)}×`;
for (const r of rows) {
  const ours = r.row.startsWith('ours') || r.row.startsWith('native') || r.row.startsWith('raw');
  const rss = `${(r.rss_kb / 1024).toFixed(0)} MB`;
  const whole = ours ? '' : ratio(r, wholeRow);
  const part = ours ? '' : ratio(r, partRow);
  const first = ours ? '' : firstRatio(r, wholeRow);
  // The raw pass counts `<`, not tests.
  const perSecond = r.row.startsWith('raw') ? '' : Math.round(r.tests / (r.ms / 1e3)).toLocaleString('en-US');
  console.log(
    `| ${r.row} | ${r.tests} | ${(r.ms / 1e3).toFixed(2)} s | ${(mb / (r.ms / 1e3)).toFixed(0)} | ${perSecond} | ${rss} | ${whole} | ${part} | ${firstCall(r)} | ${first} |`,
  );
}
const raw = ms('raw');
const native = ms('native parse (file)');
const nativeAction = ms("native: the action's work");
if (raw && native && wholeRow && nativeAction) {
  console.log(
    `\nnative parse / raw pass: ${((raw / native) * 100).toFixed(0)}% of the raw throughput (target ≥ 50%), ` +
      'the file read in parts on every core as the CLI reads a large JUnit file',
  );
  const oneThread = ms('native parse, one thread');
  if (oneThread) console.log(`the same on one thread: ${((raw / oneThread) * 100).toFixed(0)}%`);
  const [rawFirst, nativeFirst] = ['raw', 'native parse (file)'].map((n) => rowOf(n)?.first_ms);
  if (rawFirst && nativeFirst) {
    console.log(`the same at the first call, each in a fresh process (medians): ${((rawFirst / nativeFirst) * 100).toFixed(0)}%`);
  }
  console.log(`wasm / native, the same work (parse, summary, CTRF): ${((nativeAction / wholeRow.ms) * 100).toFixed(0)}% of native throughput (target ≥ 60%)`);
  console.log(
    `wasm's first call, median of ${wholeRow.firsts.length} processes (the action calls once): ${(wholeRow.first_ms / 1e3).toFixed(2)} s`,
  );
}
console.log('(native rows share one process, so their RSS is that process\'s peak)');
