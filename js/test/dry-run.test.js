// dry-run: true on the action path (issue 10): dist/index.js with a TestNod token against the
// fake prints the requests it would send, secrets redacted, and sends nothing. Needs dist/
// rebuilt from these sources (scripts/build-dist.sh) and the fake (cargo build -p fake-services).
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
const TOKEN = 'testnod-token';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'test-report-dry-run-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('dry-run prints the TestNod requests without the token and sends nothing', async () => {
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
      inputs: {
        path: 'reports/*.xml',
        'fail-on': 'nothing',
        'dry-run': 'true',
        'testnod-token': TOKEN,
        'testnod-url': `${fakes.url}/testnod`,
        'testnod-build-id': 'dry-1',
      },
    });
    const result = spawnSync(process.execPath, [entry], { cwd: scratch, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const log = result.stdout + result.stderr;
    assert.ok(log.includes(`dry-run: POST ${fakes.url}/testnod/integrations/test_runs/upload`), log);
    assert.ok(log.includes('project-token: ****'), log);
    assert.ok(log.includes('/integrations/test_runs/finalize'), log);
    const withoutMask = log.replace(`::add-mask::${TOKEN}`, '');
    assert.ok(!withoutMask.includes(TOKEN), 'the token is never printed');
    assert.ok(!readFileSync(summary, 'utf8').includes(TOKEN));

    const requests = await (await fetch(`${fakes.url}/_fake/requests`)).json();
    assert.deepEqual(requests, [], 'nothing reached the services');
  } finally {
    await fakes.stop();
  }
});
