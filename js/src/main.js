// The Node edge of the action: inputs, globbing, file reading and workflow commands around the
// wasm core, which makes every decision (parsing, totals, summary, whether the step fails).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import * as core from '@actions/core';
import * as glob from '@actions/glob';

import { ReportFile } from './report-file.js';

/** Proxy variables the runner (or a self-hosted runner's admin) may set. */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** Reads, reports and sets outputs; any error fails the step instead of escaping. */
export async function run() {
  try {
    // The wasm core reaches services through Node's global fetch, which ignores proxy variables
    // unless a proxy-aware dispatcher is installed (it honours NO_PROXY too). Loaded only then:
    // undici is half the bundle, and parsing it would slow every start.
    if (PROXY_VARIABLES.some((name) => process.env[name])) {
      // undici is CommonJS: its exports are the default export of a dynamic import.
      const { default: undici } = await import('undici');
      undici.setGlobalDispatcher(new undici.EnvHttpProxyAgent());
    }
    await report();
  } catch (error) {
    core.setFailed(`test-report: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function report() {
  const resumeFrom = core.getInput('resume-from');
  // Passed as given: empty strings and absent booleans mean "default", and the core owns the
  // defaults, the case-folding and the validation.
  const config = {
    format: core.getInput('format'),
    job_summary: booleanInput('job-summary'),
    summary_tests: core.getInput('summary-tests'),
    fail_on: core.getInput('fail-on'),
    fail_on_empty: booleanInput('fail-on-empty'),
    title: core.getInput('title'),
    check_run: core.getInput('check-run'),
    name: core.getInput('name'),
    token: core.getInput('token'),
    commit: core.getInput('commit'),
    pr_comment: core.getInput('pr-comment'),
    testnod_token: core.getInput('testnod-token'),
    testnod_url: core.getInput('testnod-url'),
    testnod_build_id: core.getInput('testnod-build-id'),
    testnod_tags: core.getInput('testnod-tags'),
    testnod_finalize: core.getInput('testnod-finalize'),
    aio_token: core.getInput('aio-token'),
    aio_url: core.getInput('aio-url'),
    aio_auth: core.getInput('aio-auth'),
    aio_project: core.getInput('aio-project'),
    aio_cycle: core.getInput('aio-cycle'),
    aio_cycle_title: core.getInput('aio-cycle-title'),
    aio_batch: core.getInput('aio-batch'),
    aio_create_new_run: core.getInput('aio-create-new-run'),
    aio_add_case_to_cycle: core.getInput('aio-add-case-to-cycle'),
    aio_create_case: core.getInput('aio-create-case'),
    aio_update_datasets: core.getInput('aio-update-datasets'),
    aio_force_update_case: core.getInput('aio-force-update-case'),
    aio_bdd_force_update_case: core.getInput('aio-bdd-force-update-case'),
    aio_update_only_run_status: core.getInput('aio-update-only-run-status'),
    aio_ignore_class_in_auto_key: core.getInput('aio-ignore-class-in-auto-key'),
    aio_default_folder: core.getInput('aio-default-folder'),
    testomatio_api_key: core.getInput('testomatio-api-key'),
    testomatio_url: core.getInput('testomatio-url'),
    testomatio_title: core.getInput('testomatio-title'),
    testomatio_env: core.getInput('testomatio-env'),
    testomatio_group: core.getInput('testomatio-group'),
    testomatio_run: core.getInput('testomatio-run'),
    testomatio_create_tests: core.getInput('testomatio-create-tests'),
    testomatio_finish: core.getInput('testomatio-finish'),
    testomatio_shared_run: core.getInput('testomatio-shared-run'),
    testomatio_run_time_unit: core.getInput('testomatio-run-time-unit'),
    valueedge_url: core.getInput('valueedge-url'),
    valueedge_shared_space: core.getInput('valueedge-shared-space'),
    valueedge_workspace: core.getInput('valueedge-workspace'),
    valueedge_client_id: core.getInput('valueedge-client-id'),
    valueedge_client_secret: core.getInput('valueedge-client-secret'),
    valueedge_skip_errors: booleanInput('valueedge-skip-errors'),
    valueedge_wait: booleanInput('valueedge-wait'),
    valueedge_release: core.getInput('valueedge-release'),
    valueedge_backlog_items: core.getInput('valueedge-backlog-items'),
    valueedge_product_areas: core.getInput('valueedge-product-areas'),
    valueedge_environment: core.getInput('valueedge-environment'),
    valueedge_test_level: core.getInput('valueedge-test-level'),
    valueedge_test_type: core.getInput('valueedge-test-type'),
    valueedge_testing_tool: core.getInput('valueedge-testing-tool'),
    valueedge_framework: core.getInput('valueedge-framework'),
    annotations: core.getInput('annotations'),
    max_annotations: core.getInput('max-annotations'),
    path_prefix: core.getInput('path-prefix'),
    working_directory: core.getInput('working-directory'),
    spool: booleanInput('spool'),
  };
  // Masked in every later log line, whatever prints them. The GitHub token too: a PAT passed in
  // `token` is masked by the runner only when it came from `secrets`.
  const secrets = [
    config.token,
    config.testnod_token,
    config.aio_token,
    config.testomatio_api_key,
    config.valueedge_client_id,
    config.valueedge_client_secret,
  ];
  for (const secret of secrets) {
    if (secret) {
      core.setSecret(secret);
    }
  }

  if (resumeFrom) {
    await resumeSpool(resumeFrom, config);
    return;
  }
  const patterns = splitPatterns(core.getInput('path', { required: true }));

  // @actions/glob roots relative patterns at the current directory, escaping it safely, so
  // changing into the working directory is what makes `path` relative to it. The runner starts
  // actions in the workspace; resolving against it explicitly keeps that true from anywhere.
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  enterWorkingDirectory(path.resolve(workspace, core.getInput('working-directory')));
  const root = process.cwd();
  const found = await findFiles(patterns);

  // Opened and read as the core parses each one: an unreadable file is reported as its error.
  const files = found.map((file) => ({ path: path.relative(root, file).split(path.sep).join('/') }));
  const readers = found.map((file) => new ReportFile(file));

  // Loaded here, not at the top: the glue instantiates the wasm as it loads, and a missing or
  // broken wasm must fail the step with a message like any other error.
  const { run: runCore } = await import('../pkg/test_report.js');
  const input = {
    config,
    patterns,
    files,
    env: ciEnv(),
    event: await readEvent(),
    repo_files: checkoutFiles(workspace),
    dry_run: booleanInput('dry-run') ?? false,
  };
  const ctrf = new CtrfFile(path.join(tempDir(), `test-report-ctrf-${randomUUID()}.json`));
  let outcome;
  try {
    outcome = JSON.parse(await runCore(JSON.stringify(input), readers, ctrf));
  } finally {
    ctrf.close();
    for (const reader of readers) {
      reader.close();
    }
  }
  if (outcome.error) {
    throw new Error(outcome.error);
  }
  // dry-run: what would have been sent, secrets already redacted by the core; nothing was.
  for (const request of outcome.dry_run_requests ?? []) {
    core.info(`dry-run: ${request}`);
  }
  await publish(outcome, ctrf);
}

/** Where the action's files go: the runner's temporary directory, removed after the job. */
function tempDir() {
  return process.env.RUNNER_TEMP || os.tmpdir();
}

/**
 * The `ctrf-file` output, written as the core hands it out: each chunk is a view into wasm
 * memory, valid only during the call, so it is written synchronously. A failed write is kept
 * for after the summary is published, so a full disk does not cost the report.
 */
class CtrfFile {
  constructor(file) {
    this.file = file;
    this.fd = undefined;
    this.error = undefined;
  }

  write(chunk) {
    if (this.error) {
      return;
    }
    try {
      this.fd ??= openSync(this.file, 'w');
      writeFileSync(this.fd, chunk);
    } catch (error) {
      this.error = error;
    }
  }

  close() {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

function enterWorkingDirectory(directory) {
  try {
    process.chdir(directory);
  } catch (error) {
    throw new Error(`cannot enter the working directory '${directory}': ${error.message}`);
  }
}

/** `path` entries are separated by newlines or commas; `!` entries exclude. */
function splitPatterns(text) {
  return text
    .split(/[\n,]/)
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '');
}

/** Matching files, absolute, sorted and without duplicates. */
async function findFiles(patterns) {
  // A pattern naming a directory matches every file below it (implicit descendants).
  const globber = await glob.create(patterns.join('\n'), { matchDirectories: false });
  return [...new Set(await globber.glob())].sort();
}

/** Undefined when empty (the core's default applies); a clear error naming the input when invalid. */
function booleanInput(name) {
  const raw = core.getInput(name);
  if (raw === '') {
    return undefined;
  }
  try {
    return core.getBooleanInput(name);
  } catch {
    throw new Error(`input '${name}': '${raw}' is not true or false`);
  }
}

/** The triggering event's payload (PR head SHA, number); null when absent or unreadable. */
async function readEvent() {
  const eventPath = process.env.GITHUB_EVENT_PATH;
  if (!eventPath) {
    return null;
  }
  try {
    return JSON.parse(await readFile(eventPath, 'utf8'));
  } catch {
    return null;
  }
}

/** Largest `git ls-files` output read: ~1M paths; a bigger listing is not used. */
const MAX_FILE_LIST_BYTES = 256 * 1024 * 1024;

/**
 * The checkout's tracked files, so annotations point only at files that exist; undefined when
 * the workspace is not a git checkout or git is missing (the core then trusts trace paths).
 */
function checkoutFiles(workspace) {
  try {
    const listing = execFileSync('git', ['-C', workspace, 'ls-files', '-z'], {
      encoding: 'utf8',
      maxBuffer: MAX_FILE_LIST_BYTES,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return listing.split('\0').filter((file) => file !== '');
  } catch (error) {
    core.debug(`no checkout file list: ${error.message}`);
    return undefined;
  }
}

/** The environment the core may read: the runner's own variables, nothing else (no secrets). */
function ciEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        (name.startsWith('GITHUB_') || name.startsWith('RUNNER_') || name.startsWith('TEST_REPORT_')) &&
        !/TOKEN|PASSWORD|SECRET|KEY|JWT/.test(name),
    ),
  );
}

async function publish(outcome, ctrfFile) {
  // Outputs and annotations first: they still reach the workflow if writing the summary fails.
  for (const [name, value] of Object.entries(outcome.outputs)) {
    core.setOutput(name, value);
  }
  // Rendered and escaped by the core within GitHub's caps: printed as they are (core.error would
  // escape them again).
  for (const line of outcome.workflow_commands) {
    process.stdout.write(`${line}${os.EOL}`);
  }
  if (outcome.job_summary) {
    await core.summary.addRaw(outcome.summary).write();
  }
  // A file copy lets later steps reuse the Markdown (PR comments, artifacts), even with
  // job-summary off.
  const summaryFile = path.join(tempDir(), `test-report-summary-${randomUUID()}.md`);
  await writeFile(summaryFile, outcome.summary);
  core.setOutput('summary-file', summaryFile);
  // Every test, whatever the summary had to leave out to stay within GitHub's limits.
  if (!ctrfFile.error) {
    core.setOutput('ctrf-file', ctrfFile.file);
  }
  if (outcome.spool) {
    const spoolDir = path.join(tempDir(), SPOOL_DIR);
    await writeSpool(spoolDir, outcome.spool, []);
    core.setOutput('spool-dir', spoolDir);
  }
  if (outcome.failure) {
    core.setFailed(outcome.failure);
  }
  if (ctrfFile.error) {
    throw new Error(`could not write the CTRF file ${ctrfFile.file}: ${ctrfFile.error.message}`);
  }
}

/** Where the spool goes under RUNNER_TEMP: what the uploads left undelivered. */
const SPOOL_DIR = 'test-report-spool';
const SPOOL_MANIFEST = 'manifest.json';

/** The payload files a spool manifest names. */
function payloadNames(manifest) {
  const units = [
    ...(manifest.testnod?.files ?? []),
    ...(manifest.aio?.files ?? []),
    ...(manifest.testomatio?.batches ?? []),
    ...(manifest.valueedge?.documents ?? []),
  ];
  return units.map((unit) => unit.payload);
}

/**
 * Writes a spool (`{manifest, payloads: [{name, bytes}]}`) into `dir`, after removing the payloads
 * of the spool it replaces; a null spool removes the manifest (everything was delivered).
 */
async function writeSpool(dir, spool, oldNames) {
  for (const name of oldNames) {
    await rm(path.join(dir, path.basename(name)), { force: true });
  }
  if (!spool) {
    await rm(path.join(dir, SPOOL_MANIFEST), { force: true });
    return;
  }
  await mkdir(dir, { recursive: true });
  for (const payload of spool.payloads) {
    await writeFile(path.join(dir, path.basename(payload.name)), Buffer.from(payload.bytes));
  }
  // The manifest last: a directory with a manifest is complete.
  await writeFile(path.join(dir, SPOOL_MANIFEST), spool.manifest);
}

/** `resume-from`: sends what a spool holds with the settings given again; no report is parsed. */
async function resumeSpool(dir, config) {
  let manifest;
  try {
    manifest = await readFile(path.join(dir, SPOOL_MANIFEST), 'utf8');
  } catch (error) {
    throw new Error(`resume-from: no spool in '${dir}' (${error.message}): download the spool-dir artifact there`);
  }
  const names = payloadNames(JSON.parse(manifest));
  const payloads = [];
  for (const name of names) {
    // The core refuses names with separators; basename keeps the read inside `dir` regardless.
    payloads.push(await readFile(path.join(dir, path.basename(name))));
  }
  const { resume } = await import('../pkg/test_report.js');
  const input = { config, env: ciEnv(), event: await readEvent(), manifest, payload_names: names };
  const resumed = JSON.parse(await resume(JSON.stringify(input), payloads));
  core.setOutput('undelivered', String(resumed.delivery.undelivered.length));
  await writeSpool(dir, resumed.spool, names);
  if (resumed.spool) {
    core.setOutput('spool-dir', dir);
  }
  if (config.job_summary !== false) {
    await core.summary.addRaw(resumed.summary).write();
  }
  if (resumed.exit_code !== 0) {
    const [first, ...rest] = resumed.errors;
    const more = rest.length > 0 ? ` (and ${rest.length} more publish errors)` : '';
    core.setFailed(`${first ?? 'units are still pending'}${more}`);
  }
}
