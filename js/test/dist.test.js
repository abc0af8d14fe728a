// The committed bundle's budget: issue 12 holds the action's wasm under 1.5 MB, which every
// hot-path speed-up (typed readers, opt-level 3, wasm-opt settings) is weighed against.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
/** Issue 12: "`dist` wasm under 1.5 MB". */
const MAX_WASM_BYTES = 1_500_000;

test('the committed wasm stays under 1.5 MB and is the one build-info describes', () => {
  const bytes = statSync(path.join(dist, 'test_report_bg.wasm')).size;
  assert.ok(bytes < MAX_WASM_BYTES, `dist/test_report_bg.wasm is ${bytes} bytes`);
  const info = JSON.parse(readFileSync(path.join(dist, 'build-info.json'), 'utf8'));
  assert.equal(info.wasm_bytes, bytes);
});
