// Our action path: the wasm core (js/pkg from scripts/build-wasm.sh): parse, summary, annotations,
// outputs and the CTRF document, as the action runs them. With MEASURE=parse-summary, the parse
// and the job summary alone (no annotations, no CTRF document): what issue 12's target times.
import { readFileSync } from 'node:fs';
import { release, run } from '../../js/pkg/test_report.js';
import { REPORT_PIECE_BYTES } from '../../js/src/report-file.js';

const path = process.argv[2];
const bytes = readFileSync(path);
const parseAndSummary = process.env.MEASURE === 'parse-summary';
const config = parseAndSummary ? { job_summary: true, annotations: 'none' } : { job_summary: true };
const input = JSON.stringify({ config, patterns: [path], files: [{ path }], env: {} });
const rounds = Number(process.env.ROUNDS || 1);
// The CTRF document arrives as views into wasm memory, which the action writes to its file;
// here they are dropped, as the peers write nothing either.
// Without a sink the core builds no CTRF document.
const ctrf = parseAndSummary ? undefined : { write() {} };
// The action reads the file as the core parses it (js/src/report-file.js); the peers' rows start
// from the file's bytes in memory (and decode them, as the peers' actions do), so ours reads the
// same bytes from memory, in the action's pieces.
const inMemory = () => {
  let at = 0;
  return {
    read() {
      const piece = bytes.subarray(at, Math.min(bytes.length, at + REPORT_PIECE_BYTES));
      at += piece.length;
      return piece;
    },
  };
};
let best = Infinity;
let first;
let totals;
for (let i = 0; i < rounds; i++) {
  const start = process.hrtime.bigint();
  const outcome = JSON.parse(await run(input, [inMemory()], ctrf));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  first ??= ms;
  best = Math.min(best, ms);
  totals = outcome.report.totals;
  // The core keeps the last call's reports and frees them when the next call starts; the action
  // calls once and never pays that, so each round's are freed here, off the clock.
  release();
}
console.log(JSON.stringify({ tests: totals.tests, failed: totals.failed + totals.errored, skipped: totals.skipped, ms: best, first_ms: first }));
