// Parse throughput of the wasm core under Node, on the file `cargo bench --bench parse` leaves.
// Usage: node js/bench/parse.mjs target/bench/junit-200k.xml
import { readFileSync } from 'node:fs';
import { run } from '../pkg/test_report.js';

const ROUNDS = 5;
const path = process.argv[2];
const bytes = readFileSync(path);
const input = JSON.stringify({
  config: { job_summary: true },
  patterns: [path],
  files: [{ path }],
  env: {},
});
let best = Infinity;
let tests = 0;
for (let i = 0; i < ROUNDS; i++) {
  const start = process.hrtime.bigint();
  const outcome = JSON.parse(await run(input, [bytes]));
  best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  tests = outcome.report.totals.tests;
}
const mb = bytes.length / 1e6;
console.log(
  `wasm (node ${process.version}) ${tests} tests, ${mb.toFixed(1)} MB in ${(best * 1e3).toFixed(1)} ms ` +
    `(best of ${ROUNDS}, parse + summary): ${(mb / best).toFixed(0)} MB/s`,
);
