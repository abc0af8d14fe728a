// dorny/test-reporter's route: the report's bytes decoded as UTF-8 (its LocalFileProvider reads
// with `fs.promises.readFile(file, {encoding: 'utf8'})`), xml2js.parseStringPromise, then walk
// suites and cases. The bytes are read before the clock starts and decoded after, as our row
// validates the same bytes from memory: both start from the file's bytes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(process.env.PEERS_DIR + '/');
const xml2js = require('xml2js');
const bytes = readFileSync(process.argv[2]);
const rounds = Number(process.env.ROUNDS || 1);
let best = Infinity;
let first;
let counts;
for (let i = 0; i < rounds; i++) {
  const start = process.hrtime.bigint();
  const doc = await xml2js.parseStringPromise(bytes.toString('utf8'));
  counts = { tests: 0, failed: 0, skipped: 0 };
  for (const suite of doc.testsuites.testsuite ?? []) {
    for (const tc of suite.testcase ?? []) {
      counts.tests++;
      if (tc.failure || tc.error) counts.failed++;
      else if (tc.skipped) counts.skipped++;
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  first ??= ms;
  best = Math.min(best, ms);
}
console.log(JSON.stringify({ ...counts, ms: best, first_ms: first }));
