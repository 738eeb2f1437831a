// Drives the page of `asap trace --serve` in headless Chromium (playwright-core, found on
// NODE_PATH) and prints what it drew as one JSON line on stdout.
//
// usage: node check.mjs URL TRACE_ID [SCREENSHOT.png]
//
// Loads URL (a viewer started with -f LOG, so the page starts with the log), waits for the
// trace list, picks TRACE_ID, waits for the waterfall and takes a full-page screenshot.
// Output: {"trace_ids", "hops": [{"hop", "label", "duration_ms", "offset_ms", "kind",
// "left", "width"}], "diagram", "log_chars", "screenshot", "screenshot_bytes", "errors"}.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const [url, traceId, shot] = process.argv.slice(2);
if (!url || !traceId) {
  console.error('usage: node check.mjs URL TRACE_ID [SCREENSHOT.png]');
  process.exit(2);
}
const screenshot = shot || join(mkdtempSync(join(tmpdir(), 'asap-trace-shot-')), 'trace-ui.png');
const profile = mkdtempSync(join(tmpdir(), 'asap-trace-ui-'));

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.ASAP_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1100, height: 720 },
  timeout: 60_000,
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  const errors = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });

  await page.goto(url);
  const pick = `#trace-list .trace-id[data-trace-id=${JSON.stringify(traceId)}]`;
  await page.waitForSelector(pick);
  const logChars = (await page.inputValue('#log-lines')).length;
  const traceIds = await page.$$eval('#trace-list .trace-id', (buttons) =>
    buttons.map((button) => button.dataset.traceId));

  await page.click(pick);
  await page.waitForSelector(`#waterfall[data-state="ready"][data-trace-id=${JSON.stringify(traceId)}] .hop`);
  const hops = await page.$$eval('#waterfall .hop', (rows) => rows.map((row) => {
    const mark = row.querySelector('.hop-bar, .hop-marker');
    const box = mark.getBoundingClientRect();
    return {
      hop: Number(row.dataset.hop),
      label: row.querySelector('.hop-label').textContent,
      duration_ms: row.dataset.durationMs === undefined ? null : Number(row.dataset.durationMs),
      offset_ms: Number(row.dataset.offsetMs),
      kind: mark.className,
      left: box.left,
      width: box.width,
    };
  }));
  const diagram = await page.textContent('#diagram');

  await page.screenshot({ path: screenshot, fullPage: true });
  const screenshotBytes = statSync(screenshot).size;
  console.log(JSON.stringify({
    trace_ids: traceIds,
    hops,
    diagram,
    log_chars: logChars,
    screenshot,
    screenshot_bytes: screenshotBytes,
    errors,
  }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
