// Parse throughput and peak memory of the wasm core under Node, on the files `cargo bench --bench
// parse` leaves in target/bench/. One file per process, so the peak RSS is that file's alone. The
// file is read as the action reads it, a piece at a time as the core parses it (its time counts),
// and the core does the action's whole work on it: parse, summary, annotations, outputs, CTRF.
// Usage: node js/bench/parse.mjs target/bench/junit.xml   (prints one Markdown table row)
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { release, run } from '../pkg/test_report.js';
import { ReportFile } from '../src/report-file.js';

const ROUNDS = 3;
const path = process.argv[2];
const size = statSync(path).size;
const input = JSON.stringify({
  config: { job_summary: true },
  patterns: [path],
  files: [{ path }],
  env: {},
});
// The CTRF document arrives as views into wasm memory, which the action writes to its file;
// here they are dropped, as the peers write nothing either.
const ctrf = { write() {} };
let best = Infinity;
let tests = 0;
for (let i = 0; i < ROUNDS; i++) {
  const start = process.hrtime.bigint();
  const outcome = JSON.parse(await run(input, [new ReportFile(path)], ctrf));
  best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  tests = outcome.report.totals.tests;
  // The last call's reports, which the core keeps, are freed off the clock: the action calls once.
  release();
}
const mb = size / 1e6;
const rssMib = process.resourceUsage().maxRSS / 1024;
console.log(
  `| ${basename(path)} (${tests} tests), wasm, node ${process.version} | ${mb.toFixed(1)} MB | ` +
    `${(mb / best).toFixed(0)} | ${rssMib.toFixed(1)} MiB | the action's work, best of ${ROUNDS} |`,
);
