// Cold start: a fresh browser (no caches, no compiled wasm), page.goto, the default model
// loaded and warmed up, one 256×256 slice dropped, until its mask is shown.
import fs from 'node:fs';
import path from 'node:path';
import { launch } from '../../../tests/e2e/lib/browser.mjs';
import { decodePng, encodeGreyPng } from '../../../tests/e2e/lib/png.mjs';
import { AppPage, log, withLimit } from './common.mjs';

/** A `side`×`side` crop (zero-padded where the sample is smaller) of a greyscale sample PNG. */
export function squareSlice(samplePath, side, outPath) {
  const png = decodePng(fs.readFileSync(samplePath));
  if (png.channels !== 1) throw new Error(`${samplePath}: expected a greyscale PNG`);
  const out = Buffer.alloc(side * side);
  const dy = Math.floor((png.height - side) / 2);
  const dx = Math.floor((png.width - side) / 2);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const sy = y + dy;
      const sx = x + dx;
      if (sy >= 0 && sy < png.height && sx >= 0 && sx < png.width) out[y * side + x] = png.data[sy * png.width + sx];
    }
  }
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, encodeGreyPng(side, side, out));
  return outPath;
}

// The page's own clock, from navigation start (performance.now()): when the status first showed
// each state, and when the file input received the dropped file. The harness polls the status
// every 100 ms and needs a round trip to drop a file, so its wall times run up to ~200 ms late;
// these do not. Installed before any of the page's scripts run.
function recordStatusTimes() {
  const log = (window.__unetStatusLog = []);
  let last;
  const look = () => {
    const state = document.querySelector('[data-testid=status]')?.getAttribute('data-state');
    if (state && state !== last) log.push({ state, t: performance.now() });
    last = state;
  };
  new MutationObserver(look).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'],
  });
  document.addEventListener('change', (e) => {
    if (e.target?.type === 'file') window.__unetDropAt ??= performance.now();
  }, true);
}

/**
 * Cold start from the page's clock: model ready (first idle state after navigation start), plus
 * drop to first mask (the file input's change to the first done state after it). The time the
 * page sat ready waiting for the harness's drop is left out: a user's drop comes whenever it comes.
 */
async function pageTimes(page) {
  const { log, dropAt } = await page.evaluate(() => ({ log: window.__unetStatusLog, dropAt: window.__unetDropAt }));
  const ready = log.find((x) => x.state === 'idle' || x.state === 'done');
  const mask = log.find((x) => x.state === 'done' && x.t >= dropAt);
  if (!ready || !mask || dropAt === undefined) return null;
  const round = (v) => Math.round(v);
  return { readyMs: round(ready.t), dropToMaskMs: round(mask.t - dropAt), maskMs: round(ready.t + mask.t - dropAt) };
}

/** One cold start with WebGPU on or off; harness times in ms from just before page.goto. */
export async function coldStart({ appUrl, slice, webgpu, limitS }) {
  log(`cold start, WebGPU ${webgpu ? 'on' : 'off'}`);
  const browser = await launch({ webgpu });
  const page = await browser.context.newPage();
  await page.addInitScript(recordStatusTimes);
  const app = new AppPage(page);
  const t0 = Date.now();
  try {
    await withLimit((async () => {
      await page.goto(appUrl);
      await app.waitForState(['idle', 'done', 'error'], limitS * 1000);
    })(), limitS, 'model ready');
    const readyMs = Date.now() - t0;
    if ((await app.state()) === 'error') throw new Error(`the app reports: ${await app.status().textContent()}`);
    const backend = await app.backendText();
    await app.dropFiles([slice]);
    await app.waitForState(['done', 'error'], Math.max(1, limitS * 1000 - (Date.now() - t0)));
    const maskMs = Date.now() - t0;
    if ((await app.state()) === 'error') throw new Error(`the slice failed: ${await app.status().textContent()}`);
    const timings = await page.locator('[data-testid=timings]').textContent().catch(() => '');
    return { ok: true, webgpu, backend: backend.trim(), readyMs, maskMs, page: await pageTimes(page), timings: timings.trim() };
  } catch (e) {
    const backend = await app.backendText().catch(() => '?');
    return { ok: false, webgpu, backend, error: String(e.message ?? e).split('\n')[0] };
  } finally {
    await browser.close();
  }
}
