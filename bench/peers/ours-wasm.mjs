// Our action path: the wasm core (js/pkg from scripts/build-wasm.sh), parse + summary.
import { readFileSync } from 'node:fs';
import { run } from '../../js/pkg/test_report.js';

const path = process.argv[2];
const bytes = readFileSync(path);
const input = JSON.stringify({ config: { job_summary: true }, patterns: [path], files: [{ path }], env: {} });
const rounds = Number(process.env.ROUNDS || 1);
let best = Infinity;
let first;
let totals;
for (let i = 0; i < rounds; i++) {
  const start = process.hrtime.bigint();
  const outcome = JSON.parse((await run(input, [bytes])).outcome);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  first ??= ms;
  best = Math.min(best, ms);
  totals = outcome.report.totals;
}
console.log(JSON.stringify({ tests: totals.tests, failed: totals.failed + totals.errored, skipped: totals.skipped, ms: best, first_ms: first }));
