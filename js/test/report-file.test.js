// Reports reach the wasm core a piece at a time (js/src/report-file.js): the pieces, their
// errors, and a report of several pieces uploaded byte for byte. Needs dist/ rebuilt from these
// sources (scripts/build-dist.sh) and the fake (cargo build -p fake-services).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { REPORT_PIECE_BYTES, ReportFile } from '../src/report-file.js';
import { startFakes } from './fakes.js';
import { runnerEnv } from './runner-env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.resolve(here, '../../dist/index.js');

const scratch = mkdtempSync(path.join(os.tmpdir(), 'test-report-pieces-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A JUnit report of `cases` failing tests, each with a 700-byte trace. */
function junit(cases) {
  const trace = 'at Service.call(Service.java:1)\n'.repeat(22);
  const body = Array.from(
    { length: cases },
    (_, i) => `<testcase classname="a.B" name="t${i}"><failure message="m">${trace}</failure></testcase>\n`,
  ).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="s">\n${body}</testsuite>\n`;
}

/**
 * Runs the bundled action in a fresh workspace holding `reports` (name → content) with `inputs`
 * (name → value, as the runner passes them); answers the process result and GITHUB_OUTPUT's text.
 */
function runAction(name, reports, inputs) {
  const workspace = path.join(scratch, name);
  mkdirSync(path.join(workspace, 'reports'), { recursive: true });
  for (const [file, content] of Object.entries(reports)) {
    writeFileSync(path.join(workspace, 'reports', file), content);
  }
  const output = path.join(workspace, 'output.txt');
  const summary = path.join(workspace, 'summary.md');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const env = runnerEnv({ workspace, summary, output, runnerTemp: workspace, inputs });
  const result = spawnSync(process.execPath, [entry], { cwd: workspace, env, encoding: 'utf8', timeout: 60_000 });
  return { result, output: readFileSync(output, 'utf8') };
}

test('a report is read in full pieces, then an empty one, and closed', () => {
  const file = path.join(scratch, 'pieces.xml');
  const bytes = Buffer.from(junit(900));
  assert.ok(bytes.length > 2 * REPORT_PIECE_BYTES && bytes.length % REPORT_PIECE_BYTES !== 0);
  writeFileSync(file, bytes);
  const reader = new ReportFile(file);
  const pieces = [];
  for (let piece = reader.read(); piece.length > 0; piece = reader.read()) {
    pieces.push(Buffer.from(piece));
  }
  assert.deepEqual(
    pieces.map((p) => p.length),
    [REPORT_PIECE_BYTES, REPORT_PIECE_BYTES, bytes.length - 2 * REPORT_PIECE_BYTES],
  );
  assert.ok(Buffer.concat(pieces).equals(bytes));
  assert.equal(reader.fd, undefined, 'closed at its end');
  assert.equal(reader.read().length, 0);
});

test('a report that cannot be opened throws its error once, then reads as ended', () => {
  const reader = new ReportFile(path.join(scratch, 'missing.xml'));
  assert.throws(() => reader.read(), { code: 'ENOENT' });
  assert.equal(reader.read().length, 0);
});

test('a report of several pieces is uploaded to TestNod byte for byte', async () => {
  const fakes = await startFakes();
  try {
    const report = junit(1000);
    assert.ok(report.length > 2 * REPORT_PIECE_BYTES);
    const { result, output } = runAction('upload', { 'big.xml': report }, {
      path: 'reports/*.xml',
      'fail-on': 'nothing',
      'testnod-token': 'testnod-token',
      'testnod-url': `${fakes.url}/testnod`,
      'testnod-build-id': 'pieces-1',
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(output, /^failed<<.*\n1000$/m);
    const state = await (await fetch(`${fakes.url}/_fake/state/testnod`)).json();
    assert.deepEqual(
      state.runs.map((run) => run.uploads.map((upload) => upload.file_utf8 === report)),
      [[true]],
    );
  } finally {
    await fakes.stop();
  }
});

test('a report after one whose parse stopped early is read from its own start', () => {
  // The core reads every report through one buffer: what a report whose parse stopped at an
  // error left in it must not be taken for the next report's beginning. (The XML readers drain
  // the buffer before they scan; the line readers stop where the error is.)
  const tooDeep = `TAP version 14\n${' '.repeat(4 * 256)}ok 1 - nested too deep\n`;
  const rest = Array.from({ length: 5000 }, (_, i) => `ok ${i + 2} - passes\n`).join('');
  const { result, output } = runAction(
    'after-error',
    { 'a-broken.tap': tooDeep + rest, 'b-fine.xml': junit(7) },
    { path: 'reports/*', 'fail-on': 'nothing' },
  );
  assert.match(result.stdout, /a-broken\.tap.*nested deeper/);
  assert.match(output, /^total<<.*\n7$/m, result.stdout + result.stderr);
});
