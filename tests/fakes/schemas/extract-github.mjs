// Extracts the request-body schemas of the GitHub endpoints the fake serves from the official
// OpenAPI description (npm package @octokit/openapi, MIT) into github-requests.json, which the
// fake validates request bodies against. Descriptions are dropped to keep the file small.
//
// Regenerate (about 30 MB download, not committed):
//   cd "$(mktemp -d)" && npm pack @octokit/openapi@23.0.2 \
//     && tar xzf octokit-openapi-23.0.2.tgz package/generated/api.github.com.deref.json \
//     && node <repo>/tests/fakes/schemas/extract-github.mjs package/generated/api.github.com.deref.json 23.0.2
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [source, version] = process.argv.slice(2);
if (!source || !version) {
  console.error('usage: extract-github.mjs <api.github.com.deref.json> <@octokit/openapi version>');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(source, 'utf8'));
const operations = {
  create_check_run: ['/repos/{owner}/{repo}/check-runs', 'post'],
  update_check_run: ['/repos/{owner}/{repo}/check-runs/{check_run_id}', 'patch'],
  create_issue_comment: ['/repos/{owner}/{repo}/issues/{issue_number}/comments', 'post'],
  update_issue_comment: ['/repos/{owner}/{repo}/issues/comments/{comment_id}', 'patch'],
};
// Prose only: a `description` whose value is a string (a property *named* description stays).
const strip = (node) => {
  if (Array.isArray(node)) return node.map(strip);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'description' || key === 'title') && typeof value === 'string') continue;
      if (key === 'examples' || key === 'example') continue;
      out[key] = strip(value);
    }
    return out;
  }
  return node;
};
const result = {
  source: `@octokit/openapi@${version} generated/api.github.com.deref.json (MIT, Copyright (c) 2020 Octokit contributors)`,
  operations: Object.fromEntries(
    Object.entries(operations).map(([name, [route, method]]) => [
      name,
      { route, method, schema: strip(spec.paths[route][method].requestBody.content['application/json'].schema) },
    ]),
  ),
};
const here = path.dirname(fileURLToPath(import.meta.url));
writeFileSync(path.join(here, 'github-requests.json'), `${JSON.stringify(result, null, 1)}\n`);
