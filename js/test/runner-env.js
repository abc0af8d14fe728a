// The environment the runner gives an action step, shared by the tests that run dist/index.js.

/**
 * Only what a step gets, so that when these tests run in Actions themselves, the outer job's
 * GITHUB_OUTPUT and friends do not leak in. `inputs` are named as the runner names them (upper
 * case, hyphens kept: INPUT_FAIL-ON); `extra` adds variables (CI metadata, proxies).
 */
export function runnerEnv({ workspace, summary, output, runnerTemp, inputs = {}, extra = {} }) {
  return {
    PATH: process.env.PATH,
    GITHUB_WORKSPACE: workspace,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_OUTPUT: output,
    RUNNER_TEMP: runnerTemp,
    ...extra,
    ...Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])),
  };
}
