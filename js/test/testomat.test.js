// The action path of the Testomat.io upload (issue 8): dist/index.js with testomatio-* inputs
// against the fake. Needs dist/ rebuilt from these sources (scripts/build-dist.sh) and the fake
// (cargo build -p fake-services).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startFakes } from './fakes.js';
import { runnerEnv } from './runner-env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.resolve(here, '../../dist/index.js');
const KEY = 'tstmt_fake-key';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'test-report-testomat-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('the action sends the report to Testomat.io, masks the key and sets the run outputs', async () => {
  const fakes = await startFakes();
  try {
    const workspace = path.join(scratch, 'workspace');
    mkdirSync(path.join(workspace, 'reports'), { recursive: true });
    copyFileSync(path.join(here, 'fixtures', 'failing.xml'), path.join(workspace, 'reports', 'failing.xml'));
    const output = path.join(scratch, 'output.txt');
    const summary = path.join(scratch, 'summary.md');
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const env = runnerEnv({
      workspace,
      summary,
      output,
      runnerTemp: scratch,
      extra: { GITHUB_ACTIONS: 'true', GITHUB_WORKFLOW: 'CI', GITHUB_RUN_NUMBER: '12' },
      inputs: {
        path: 'reports/*.xml',
        'fail-on': 'nothing',
        'testomatio-api-key': KEY,
        'testomatio-url': `${fakes.url}/testomatio`,
        'testomatio-env': 'linux',
        'testomatio-run-time-unit': 's',
      },
    });
    const result = spawnSync(process.execPath, [entry], { cwd: scratch, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.ok(result.stdout.includes(`::add-mask::${KEY}`), 'the key is masked');
    assert.ok(!result.stdout.replace(`::add-mask::${KEY}`, '').includes(KEY), 'and never printed otherwise');

    const state = await (await fetch(`${fakes.url}/_fake/state/testomatio`)).json();
    assert.equal(state.runs.length, 1);
    const [run] = state.runs;
    assert.equal(run.params.title, 'CI #12');
    assert.equal(run.params.env, 'linux');
    assert.equal(run.status, 'finished');
    const statuses = run.executions.map((e) => e.status).sort();
    assert.equal(run.executions.length, 5);
    assert.deepEqual(statuses, ['failed', 'failed', 'passed', 'passed', 'skipped']);
    assert.ok(run.executions.every((e) => typeof e.run_time !== 'number' || e.run_time < 100), 'seconds');

    const outputs = readFileSync(output, 'utf8');
    assert.ok(outputs.includes(`testomatio-run-uid<<`) && outputs.includes(run.uid), outputs);
    assert.ok(outputs.includes(`/projects/fake-project/runs/${run.uid}`), outputs);
    assert.ok(readFileSync(summary, 'utf8').includes('**Testomat.io**'));
  } finally {
    await fakes.stop();
  }
});
