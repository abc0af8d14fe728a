// Starts the fake services (tests/fakes/, documented in tests/README.md) for the JS tests, the
// same way the Rust tests do: spawn the binary, read its first stdout line {"url":...}.
// The binary is $FAKE_SERVICES_BIN or ../target/debug/fake-services (scripts/test.sh builds it
// with `cargo build -p fake-services`). stdin stays a pipe: the fake exits when it closes, so a
// test process that dies leaks nothing.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const fakeServicesBin =
  process.env.FAKE_SERVICES_BIN ?? path.resolve(here, '../../target/debug/fake-services');

/** Resolves {url, stop()}; rejects if the binary is missing or exits before printing its URL. */
export function startFakes() {
  if (!existsSync(fakeServicesBin)) {
    return Promise.reject(
      new Error(`${fakeServicesBin} not found: run \`cargo build -p fake-services\` or set FAKE_SERVICES_BIN`),
    );
  }
  const child = spawn(fakeServicesBin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`fake-services exited with ${code} before printing its URL`)));
    lines.once('line', (line) => {
      lines.close();
      const { url } = JSON.parse(line);
      const stop = () =>
        new Promise((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill();
        });
      resolve({ url, stop });
    });
  });
}
