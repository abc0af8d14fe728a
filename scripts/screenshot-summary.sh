#!/usr/bin/env bash
# Renders a job summary (Markdown) the way GitHub shows it and screenshots it, to look at the
# summary as a person would before changing its layout.
#
#   scripts/screenshot-summary.sh SUMMARY.md OUT.png
#   test-report summary reports/ > /tmp/summary.md; scripts/screenshot-summary.sh /tmp/summary.md /tmp/summary.png
#
# GitHub-flavoured rendering: npm `marked` (GFM tables, fenced code) with `marked-alert` (the
# `> [!NOTE]` alerts GitHub renders) and GitHub's own stylesheet (`github-markdown-css`), raw HTML
# (<details>, <sub>) passed through as GitHub does after sanitizing. Screenshot: headless Debian
# `chromium` driven by `puppeteer-core` (no browser download), the full page at GitHub's
# summary width. The npm packages go into a scratch directory, never into js/.
#
# Needs: node and npm; chromium (`apt-get install chromium fonts-noto-color-emoji`; the emoji font
# makes the status icons render). Env: SCREENSHOT_SCRATCH (default $TMPDIR/test-report-screenshot),
# CHROMIUM (default: chromium on PATH), SCREENSHOT_WIDTH (CSS pixels, default 1012: the width of a
# job summary on a desktop browser), SCREENSHOT_MAX_HEIGHT (default 8000: longer pages are cut
# there, since Chromium cannot capture arbitrarily tall pages).
set -euo pipefail

if [ $# -ne 2 ]; then
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
markdown=$(realpath "$1")
out=$(realpath -m "$2")
scratch=${SCREENSHOT_SCRATCH:-${TMPDIR:-/tmp}/test-report-screenshot}
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
width=${SCREENSHOT_WIDTH:-1012}
max_height=${SCREENSHOT_MAX_HEIGHT:-8000}

if [ -z "$chromium" ]; then
    echo "screenshot-summary: no chromium on PATH (Debian: apt-get install chromium fonts-noto-color-emoji)" >&2
    exit 2
fi

# Pinned majors: the rendering should not change under us between two screenshots.
packages=(marked@18 marked-alert@2 github-markdown-css@5 puppeteer-core@25)
mkdir -p "$scratch"
if [ ! -d "$scratch/node_modules/puppeteer-core" ]; then
    (cd "$scratch" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent "${packages[@]}")
fi

cat > "$scratch/render.mjs" <<'JS'
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Marked } from 'marked';
import markedAlert from 'marked-alert';
import puppeteer from 'puppeteer-core';

const [markdownFile, outFile, chromium, width, maxHeight] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const css = readFileSync(require.resolve('github-markdown-css/github-markdown-light.css'), 'utf8');
const body = new Marked({ gfm: true }).use(markedAlert()).parse(readFileSync(markdownFile, 'utf8'));
const html = `<!doctype html><meta charset="utf-8"><style>${css}
  body { margin: 0; background: #fff; }
  .markdown-body { box-sizing: border-box; padding: 24px; font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; }
</style><article class="markdown-body">${body}</article>`;
const page = path.join(path.dirname(outFile), `${path.basename(outFile, '.png')}.html`);
writeFileSync(page, html);

const browser = await puppeteer.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const tab = await browser.newPage();
  await tab.setViewport({ width: Number(width), height: 800 });
  await tab.goto(`file://${page}`, { waitUntil: 'load' });
  // Open every <details>, as a reader checking the traces would.
  await tab.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
  const height = await tab.evaluate(() => document.documentElement.scrollHeight);
  if (height > Number(maxHeight)) {
    console.log(`page is ${height}px tall: the screenshot shows the first ${maxHeight}px`);
  }
  await tab.screenshot({
    path: outFile,
    clip: { x: 0, y: 0, width: Number(width), height: Math.min(height, Number(maxHeight)) },
    captureBeyondViewport: true,
  });
} finally {
  await browser.close();
}
console.log(`${outFile} (HTML: ${page})`);
JS

node "$scratch/render.mjs" "$markdown" "$out" "$chromium" "$width" "$max_height"
