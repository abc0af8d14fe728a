// Spool and resume on the action path (issue 10): a failed TestNod upload leaves the spool-dir
// output, and a re-run with resume-from delivers exactly what was missing. Needs dist/ rebuilt from
// these sources (scripts/build-dist.sh) and the fake (cargo build -p fake-services).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startFakes } from './fakes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.resolve(here, '../../dist/index.js');
const TOKEN = 'testnod-token';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'test-report-spool-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the action with these inputs; answers the exit status, stdout and the outputs set. */
function action(inputs, name) {
  const output = path.join(scratch, `${name}-output.txt`);
  const summary = path.join(scratch, `${name}-summary.md`);
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const env = {
    PATH: process.env.PATH,
    GITHUB_WORKSPACE: path.join(scratch, 'workspace'),
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_OUTPUT: output,
    RUNNER_TEMP: path.join(scratch, `${name}-temp`),
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
  };
  mkdirSync(env.RUNNER_TEMP, { recursive: true });
  const result = spawnSync(process.execPath, [entry], { cwd: scratch, env, encoding: 'utf8', timeout: 60_000 });
  const outputs = {};
  for (const match of readFileSync(output, 'utf8').matchAll(/^([^<\n]+)<<(.+)\n([\s\S]*?)\n\2$/gm)) {
    outputs[match[1]] = match[3];
  }
  return { status: result.status, stdout: result.stdout + result.stderr, outputs, summary: readFileSync(summary, 'utf8') };
}

test('a failed TestNod upload is spooled, and resume-from delivers exactly the missing file', async () => {
  const fakes = await startFakes();
  try {
    const reports = path.join(scratch, 'workspace', 'reports');
    mkdirSync(reports, { recursive: true });
    copyFileSync(path.join(here, 'fixtures', 'failing.xml'), path.join(reports, 'failing.xml'));
    copyFileSync(path.join(here, 'fixtures', 'passing.xml'), path.join(reports, 'passing.xml'));
    const faults = [{ service: 'storage', method: 'PUT', times: 1, fault: { status: 403 } }];
    await fetch(`${fakes.url}/_fake/faults`, { method: 'POST', body: JSON.stringify(faults) });
    const testnod = { 'testnod-token': TOKEN, 'testnod-url': `${fakes.url}/testnod`, 'testnod-build-id': 'js-1' };

    // spool: 'true' is action.yml's default, which the runner passes.
    const first = action({ path: 'reports/*.xml', 'fail-on': 'nothing', spool: 'true', ...testnod }, 'first');
    // fail-on nothing: the upload failure is still reported, the step passes.
    assert.equal(first.outputs.undelivered, '2', first.stdout);
    assert.ok(first.summary.includes('### Not delivered'), first.summary);
    const spoolDir = first.outputs['spool-dir'];
    assert.ok(spoolDir && existsSync(path.join(spoolDir, 'manifest.json')), first.stdout);
    const manifest = JSON.parse(readFileSync(path.join(spoolDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.testnod.files.length, 1);
    assert.equal(manifest.testnod.finalize, true);
    for (const file of readdirSync(spoolDir)) {
      assert.ok(!readFileSync(path.join(spoolDir, file), 'utf8').includes(TOKEN), `${file} holds the token`);
    }

    // The re-run job: the artifact downloaded, the same secrets, no reports.
    const resumed = action({ 'resume-from': spoolDir, ...testnod }, 'resume');
    assert.equal(resumed.status, 0, resumed.stdout);
    assert.equal(resumed.outputs.undelivered, '0');
    assert.ok(resumed.summary.includes('1 of 1 resumed uploads delivered'), resumed.summary);
    assert.ok(!existsSync(path.join(spoolDir, 'manifest.json')));

    const state = await (await fetch(`${fakes.url}/_fake/state/testnod`)).json();
    assert.equal(state.runs.length, 1);
    const stored = state.runs[0].uploads.filter((u) => u.file_utf8 !== null).map((u) => u.file_utf8);
    assert.equal(stored.length, 2, 'each file stored once');
    assert.notEqual(stored[0], stored[1]);
    assert.equal(state.runs[0].status, 'processing');
  } finally {
    await fakes.stop();
  }
});
