// The JS side starts the same fake-services binary the Rust tests use, and it answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startFakes } from './fakes.js';

test('startFakes starts the fake services and /_fake/requests answers', async () => {
  const fakes = await startFakes();
  try {
    assert.match(fakes.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const upload = await fetch(`${fakes.url}/testnod/integrations/test_runs/upload`, {
      method: 'POST',
      headers: { 'Project-Token': 'wrong' },
    });
    assert.equal(upload.status, 404);
    const journal = await (await fetch(`${fakes.url}/_fake/requests?service=testnod`)).json();
    assert.equal(journal.length, 1);
    assert.equal(journal[0].headers.find(([name]) => name === 'project-token')[1], 'wrong');
  } finally {
    await fakes.stop();
  }
});
