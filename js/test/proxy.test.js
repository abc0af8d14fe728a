// Proxies on the action path (issue 10): with HTTPS_PROXY/HTTP_PROXY set, every request the core
// sends goes through the proxy (undici's EnvHttpProxyAgent, loaded only then); NO_PROXY exempts
// hosts. The proxy here is a CONNECT tunnel that records where it was asked to connect.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startFakes } from './fakes.js';
import { runnerEnv } from './runner-env.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.resolve(here, '../../dist/index.js');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'test-report-proxy-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A CONNECT proxy on a free port; `targets` lists each host:port it tunnelled to. */
async function startProxy() {
  const targets = [];
  const server = http.createServer((_, res) => res.writeHead(405).end());
  server.on('connect', (req, client, head) => {
    targets.push(req.url);
    const [host, port] = req.url.split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, targets, stop: () => server.close() };
}

/**
 * Runs the action (a TestNod upload of one report) with `proxyEnv`; answers status and log.
 * Asynchronously: the proxy lives in this process and must keep answering meanwhile.
 */
async function action(fakesUrl, proxyEnv, name) {
  const workspace = path.join(scratch, name);
  mkdirSync(path.join(workspace, 'reports'), { recursive: true });
  copyFileSync(path.join(here, 'fixtures', 'passing.xml'), path.join(workspace, 'reports', 'passing.xml'));
  const output = path.join(workspace, 'output.txt');
  const summary = path.join(workspace, 'summary.md');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const inputs = {
    path: 'reports/*.xml',
    'testnod-token': 'testnod-token',
    'testnod-url': `${fakesUrl}/testnod`,
    'testnod-build-id': name,
  };
  const env = runnerEnv({ workspace, summary, output, runnerTemp: workspace, inputs, extra: proxyEnv });
  const child = spawn(process.execPath, [entry], { cwd: workspace, env, timeout: 60_000 });
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const status = await new Promise((resolve) => child.on('close', resolve));
  return { status, log: log + readFileSync(summary, 'utf8') };
}

test('HTTP_PROXY carries every upload request; NO_PROXY exempts the host', async () => {
  const fakes = await startFakes();
  const proxy = await startProxy();
  try {
    const fakeHost = new URL(fakes.url).host;
    const proxied = await action(fakes.url, { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NODE_DEBUG: process.env.DEBUG_PROXY ?? '' }, 'proxied');
    assert.equal(proxied.status, 0, `${proxied.log}\nproxy targets: ${proxy.targets.join(', ')}`);
    assert.ok(proxy.targets.length > 0, 'the proxy saw no request');
    assert.ok(proxy.targets.every((t) => t === fakeHost), proxy.targets.join(', '));
    const seen = proxy.targets.length;

    const exempt = await action(fakes.url, { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, 'exempt');
    assert.equal(exempt.status, 0, exempt.log);
    assert.equal(proxy.targets.length, seen, 'NO_PROXY still went through the proxy');

    const state = await (await fetch(`${fakes.url}/_fake/state/testnod`)).json();
    assert.equal(state.runs.length, 2, 'both runs uploaded');
    // TestNod gets the report as it is: the core copies the original beside its streamed parse.
    const original = readFileSync(path.join(here, 'fixtures', 'passing.xml'), 'utf8');
    assert.deepEqual(
      state.runs.map((run) => run.uploads.map((upload) => upload.file_utf8)),
      [[original], [original]],
    );
  } finally {
    proxy.stop();
    await fakes.stop();
  }
});
