// Several calls of the wasm core in one process (issue 12): a call's parsed reports are freed
// when the next call starts, not at the end of their own, so each call must still answer for its
// own reports only. Needs js/pkg (scripts/build-wasm.sh; scripts/build-dist.sh builds it too).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../pkg/test_report.js');

const junit = (cases) =>
  `<testsuite name="s">${cases.map((c) => `<testcase name="${c.name}">${c.failed ? '<failure message="m"/>' : ''}</testcase>`).join('')}</testsuite>`;

/** One call of the core on one in-memory report; its totals. */
async function totalsOf(run, xml) {
  const path = 'report.xml';
  const input = JSON.stringify({ config: { job_summary: true, annotations: 'none' }, patterns: [path], files: [{ path }], env: {} });
  let bytes = Buffer.from(xml);
  const reader = {
    read() {
      const piece = bytes;
      bytes = Buffer.alloc(0);
      return piece;
    },
  };
  const outcome = JSON.parse(await run(input, [reader], undefined));
  const { tests, failed } = outcome.report.totals;
  return { tests, failed };
}

test('each call counts its own reports when the last call\'s are freed at the next', { skip: !existsSync(pkg) && 'js/pkg not built' }, async () => {
  const { run } = await import(pathToFileURL(pkg));
  const three = junit([{ name: 'a' }, { name: 'b', failed: true }, { name: 'c' }]);
  const two = junit([{ name: 'x', failed: true }, { name: 'y', failed: true }]);
  assert.deepEqual(await totalsOf(run, three), { tests: 3, failed: 1 });
  assert.deepEqual(await totalsOf(run, two), { tests: 2, failed: 2 });
  assert.deepEqual(await totalsOf(run, three), { tests: 3, failed: 1 });
});
