// The action's cold start (issue 12: under 150 ms): loading and instantiating the wasm core, and a
// whole `node dist/index.js` run that finds no reports, against a bare `node -e ''` for the
// runtime's own start. Best of ROUNDS (default 10), one fresh process per round.
// Usage: node js/bench/cold-start.mjs [path/to/node]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const node = path.resolve(process.argv[2] || process.execPath);
const rounds = Number(process.env.ROUNDS || 10);
const scratch = mkdtempSync(path.join(tmpdir(), 'cold-start-'));
const env = {
  PATH: process.env.PATH,
  RUNNER_TEMP: scratch,
  GITHUB_OUTPUT: path.join(scratch, 'output'),
  GITHUB_STEP_SUMMARY: path.join(scratch, 'summary'),
  'INPUT_PATH': 'no-such-dir/*.xml',
  'INPUT_FAIL-ON-EMPTY': 'false',
};
writeFileSync(env.GITHUB_OUTPUT, '');
writeFileSync(env.GITHUB_STEP_SUMMARY, '');

function best(args, options = {}) {
  let ms = Infinity;
  for (let i = 0; i < rounds; i++) {
    const start = process.hrtime.bigint();
    const run = spawnSync(node, args, { encoding: 'utf8', ...options });
    const took = Number(process.hrtime.bigint() - start) / 1e6;
    if (run.status !== 0) {
      throw new Error(`${args.join(' ')} exited ${run.status}: ${run.stderr}`);
    }
    ms = Math.min(ms, took);
  }
  return ms;
}

const pkg = path.resolve(here, '../pkg/test_report.js');
const instantiate = `const t = performance.now(); await import(${JSON.stringify(pkg)}); ` +
  'console.log(performance.now() - t)';
let loadMs = Infinity;
for (let i = 0; i < rounds; i++) {
  const run = spawnSync(node, ['--input-type=module', '-e', instantiate], { encoding: 'utf8' });
  loadMs = Math.min(loadMs, Number(run.stdout));
}
const bare = best(['-e', '']);
const action = best([path.resolve(here, '../../dist/index.js')], { env, cwd: scratch });
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(`node ${version}, best of ${rounds}:`);
console.log(`  load + instantiate the wasm core (in process): ${loadMs.toFixed(1)} ms`);
console.log(`  node dist/index.js, no reports (whole process): ${action.toFixed(0)} ms`);
console.log(`  node -e '' (the runtime's own start):            ${bare.toFixed(0)} ms`);
