// Bundles the wrapper into ../dist for the runner, which downloads nothing: the entry, the wasm
// glue and undici each in their own file, so a run without a proxy never parses undici's 0.5 MB
// (issue 12: cold start). @actions/core imports @actions/http-client only for OIDC tokens, which
// this action never requests; a stub stands in for it (another 0.4 MB).
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import * as esbuild from 'esbuild';

const OUT = '../dist';

/** Resolves @actions/http-client (and its subpaths) to a stub that throws if ever used. */
const noHttpClient = {
  name: 'no-http-client',
  setup(build) {
    build.onResolve({ filter: /^@actions\/http-client(\/.*)?$/ }, () => ({
      path: 'no-http-client',
      namespace: 'stub',
    }));
    build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: `
        const refuse = () => { throw new Error('@actions/http-client is not bundled: test-report-action requests no OIDC token'); };
        export class HttpClient { constructor() { refuse(); } }
        export class BearerCredentialHandler { constructor() { refuse(); } }`,
      loader: 'js',
    }));
  },
};

rmSync(OUT, { recursive: true, force: true });
await esbuild.build({
  entryPoints: { index: 'src/index.js' },
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  outdir: OUT,
  // Chunks beside index.js: the wasm glue finds test_report_bg.wasm next to itself.
  chunkNames: '[name]-[hash]',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  plugins: [noHttpClient],
  logLevel: 'warning',
});
copyFileSync('pkg/test_report_bg.wasm', `${OUT}/test_report_bg.wasm`);
writeFileSync(`${OUT}/package.json`, '{"type":"module"}\n');
