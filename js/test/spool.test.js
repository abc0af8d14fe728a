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
import { runnerEnv } from './runner-env.js';

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
  const env = runnerEnv({
    workspace: path.join(scratch, 'workspace'),
    summary,
    output,
    runnerTemp: path.join(scratch, `${name}-temp`),
    inputs,
  });
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

test('a failed ValueEdge push is spooled without secrets, and resume-from delivers each result once', async () => {
  const fakes = await startFakes();
  try {
    const CLIENT_ID = 've-SECRET-id-js-7c1d';
    const CLIENT_SECRET = 've-SECRET-pw-js-e42a';
    const config = { octane: { clients: { [CLIENT_ID]: CLIENT_SECRET } } };
    await fetch(`${fakes.url}/_fake/config`, { method: 'POST', body: JSON.stringify(config) });
    const reports = path.join(scratch, 'workspace', 've-reports');
    mkdirSync(reports, { recursive: true });
    copyFileSync(path.join(here, 'fixtures', 'failing.xml'), path.join(reports, 'failing.xml'));
    copyFileSync(path.join(here, 'fixtures', 'passing.xml'), path.join(reports, 'passing.xml'));
    const cases = ['failing.xml', 'passing.xml']
      .map((f) => readFileSync(path.join(reports, f), 'utf8').match(/<testcase\b/g).length)
      .reduce((a, b) => a + b);
    // The one push refused for good (403 is not retried).
    const faults = [{ service: 'octane', path_regex: '/test-results$', times: 1, fault: { status: 403 } }];
    await fetch(`${fakes.url}/_fake/faults`, { method: 'POST', body: JSON.stringify(faults) });
    const credentials = {
      'valueedge-url': `${fakes.url}/octane`,
      'valueedge-client-id': CLIENT_ID,
      'valueedge-client-secret': CLIENT_SECRET,
    };
    const secrets = [CLIENT_ID, CLIENT_SECRET];
    // `::add-mask::SECRET` is how the action hands a secret to the runner, which never prints it.
    const masked = (text) => text.replace(/^::add-mask::.*$/gm, '');
    const assertNoSecret = (text, where) => {
      for (const secret of secrets) assert.ok(!masked(text).includes(secret), `${where} holds ${secret}`);
    };

    const first = action(
      {
        path: 've-reports/*.xml',
        'fail-on': 'nothing',
        spool: 'true',
        'valueedge-shared-space': '1001',
        'valueedge-workspace': '1002',
        ...credentials,
      },
      've-first',
    );
    assert.equal(first.outputs.undelivered, '2', first.stdout);
    const spoolDir = first.outputs['spool-dir'];
    assert.ok(spoolDir && existsSync(path.join(spoolDir, 'manifest.json')), first.stdout);
    const manifest = JSON.parse(readFileSync(path.join(spoolDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.valueedge.shared_space, '1001');
    assert.equal(manifest.valueedge.workspace, '1002');
    assert.equal(manifest.valueedge.documents.length, 1, JSON.stringify(manifest));
    const payload = readFileSync(path.join(spoolDir, manifest.valueedge.documents[0].payload), 'utf8');
    assert.equal(payload.match(/<test_run\b/g).length, cases, 'the spooled document holds every result');
    for (const file of readdirSync(spoolDir)) {
      assertNoSecret(readFileSync(path.join(spoolDir, file), 'utf8'), `spool file ${file}`);
    }
    for (const secret of secrets) assert.ok(first.stdout.includes(`::add-mask::${secret}\n`), 'masked');
    assertNoSecret(first.stdout, 'the first run output');
    assertNoSecret(first.summary, 'the first summary');
    assertNoSecret(JSON.stringify(first.outputs), 'the first outputs');
    let state = await (await fetch(`${fakes.url}/_fake/state/octane`)).json();
    assert.equal(state.tasks.length, 0, 'the refused push stored nothing');

    // The re-run job: the artifact downloaded, the credentials again; the spool names the space.
    const resumed = action({ 'resume-from': spoolDir, ...credentials }, 've-resume');
    assert.equal(resumed.status, 0, resumed.stdout);
    assert.equal(resumed.outputs.undelivered, '0');
    assert.ok(resumed.summary.includes('1 of 1 resumed uploads delivered'), resumed.summary);
    assert.ok(!existsSync(path.join(spoolDir, 'manifest.json')));
    assertNoSecret(resumed.stdout, 'the resume output');
    assertNoSecret(resumed.summary, 'the resume summary');

    state = await (await fetch(`${fakes.url}/_fake/state/octane`)).json();
    assert.equal(state.tasks.length, 1, JSON.stringify(state));
    assert.equal(state.tasks[0].duplicate_pushes, 0);
    assert.equal(state.tasks[0].payload_utf8, payload, 'the spooled bytes as sent');
    const names = state.tasks[0].runs.map((r) => `${r.class}.${r.name}`);
    assert.equal(names.length, cases, 'every result stored');
    assert.equal(new Set(names).size, cases, `every result once: ${names}`);
    const requests = await (await fetch(`${fakes.url}/_fake/requests?service=octane`)).json();
    const pushes = requests.filter((r) => r.method === 'POST' && r.path.endsWith('/test-results'));
    assert.equal(pushes.length, 2, 'one refused push, one resumed');
    assert.ok(pushes.every((r) => r.path.includes('/shared_spaces/1001/workspaces/1002/')));
  } finally {
    await fakes.stop();
  }
});
