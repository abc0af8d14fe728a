// Deterministic, realistic JUnit input for the peer comparison (issue 12): 200,000 testcases in
// 1,000 suites, system-out on every case, every 20th failing with a 30-line trace, every 50th
// skipped, non-ASCII names and XML-special characters in messages. ~40 MB.
// Usage: node bench/generate.mjs OUT.xml [TESTCASES]
import { createWriteStream } from 'node:fs';

const out = process.argv[2];
const total = Number(process.argv[3] || 200_000);
const perSuite = 200;
const trace = Array.from(
  { length: 30 },
  (_, i) => `\tat com.acme.billing.Service.step${i}(Service.java:${100 + i})`,
).join('\n');
const names = ['rechnet_Summe', 'prüft_Grenzwert', 'überweist_€', 'gère_l’échéance', '取引を検証する', 'validates_input'];

const stream = createWriteStream(out);
const chunks = [];
const flush = () => {
  stream.write(chunks.join(''));
  chunks.length = 0;
};
chunks.push('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bench">\n');
for (let s = 0; s < total / perSuite; s++) {
  chunks.push(`  <testsuite name="com.acme.billing.Suite${s}" tests="${perSuite}" time="12.5" timestamp="2026-12-01T00:00:00">\n`);
  for (let c = 0; c < perSuite; c++) {
    const n = s * perSuite + c;
    const name = `${names[n % names.length]}_${n}`;
    chunks.push(`    <testcase classname="com.acme.billing.Suite${s}" name="${name}" time="0.0${n % 10}">\n`);
    if (n % 20 === 0) {
      chunks.push(
        `      <failure message="expected &lt;${n}&gt; but was &lt;0&gt; &amp; “quoted”" type="java.lang.AssertionError">${trace}</failure>\n`,
      );
    } else if (n % 50 === 1) {
      chunks.push('      <skipped message="disabled on CI"/>\n');
    }
    chunks.push(
      `      <system-out>[INFO] starting ${name}\n[DEBUG] request id=${n} payload={"amount": ${n}.00, "currency": "EUR"}\n[INFO] finished in ${n % 97} ms</system-out>\n    </testcase>\n`,
    );
  }
  chunks.push('  </testsuite>\n');
  if (s % 10 === 0) flush();
}
chunks.push('</testsuites>\n');
flush();
stream.end();
