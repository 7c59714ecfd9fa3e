// The largest image the CPU backend segments: synthetic greyscale PNGs of growing size, each
// dropped into a fresh browser (so a crash or a full wasm heap cannot spoil the next size),
// within a time limit per size.
import fs from 'node:fs';
import path from 'node:path';
import { launch } from '../../../tests/e2e/lib/browser.mjs';
import { encodeGreyPng } from '../../../tests/e2e/lib/png.mjs';
import { AppPage, log } from './common.mjs';

/** A smooth grey pattern (blobs on a ramp): compresses well, so even 8192² is a small file. */
export function syntheticPng(side, outPath) {
  if (fs.existsSync(outPath)) return outPath;
  const data = Buffer.alloc(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const u = (x / side) * 12.566;
      const v = (y / side) * 12.566;
      data[y * side + x] = Math.round(127 + 60 * Math.sin(u) * Math.cos(v) + 40 * (x / side));
    }
  }
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, encodeGreyPng(side, side, data));
  return outPath;
}

/** Drops `file` into the app on the CPU backend; says whether a mask came, and if not, how not. */
export async function tryImage({ appUrl, file, side, limitS }) {
  log(`largest image: ${side}x${side} (limit ${limitS} s)`);
  const browser = await launch({ webgpu: false });
  const page = await browser.context.newPage();
  const app = new AppPage(page);
  let crashed = false;
  page.on('crash', () => { crashed = true; });
  try {
    await page.goto(appUrl + '?backend=cpu');
    await app.waitUntilReady();
    const t0 = Date.now();
    await app.dropFiles([file]);
    // A crashed tab never answers, so poll with short waits and check for the crash in between.
    const deadline = t0 + limitS * 1000;
    let state = await app.state().catch(() => null);
    // A wasm trap (e.g. a failed allocation under panic = "abort") leaves the page on
    // "running" for ever; the console's RuntimeError is the only sign.
    const trapped = () => app.consoleErrors.some((e) => e.includes('RuntimeError'));
    while (!crashed && !trapped() && !['done', 'error'].includes(state) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      state = await app.state().catch(() => null);
    }
    const seconds = (Date.now() - t0) / 1000;
    if (crashed) return { side, outcome: 'crash', seconds, detail: 'the tab crashed (page "crash" event)', errors: app.consoleErrors };
    if (trapped()) {
      // A Rust panic reaches the page through the panic hook before the abort; a failed
      // allocation aborts without one, and the status stays as it was.
      const status = (await app.status().textContent().catch(() => '')).replace(/\s+/g, ' ').trim();
      const panicked = status.includes('panicked');
      const detail = panicked
        ? `the page shows: "${status}"`
        : `the wasm module trapped (no panic message, so most likely a failed allocation); the page still says "${status}"`;
      return { side, outcome: panicked ? 'panic' : 'trap', seconds, detail, errors: app.consoleErrors };
    }
    if (state === 'done') return { side, outcome: 'mask', seconds, detail: (await page.locator('[data-testid=timings]').textContent()).trim() };
    if (state === 'error') {
      const message = await page.locator('[data-testid=item-error]').first().textContent().catch(() => null)
        ?? await app.status().textContent();
      return { side, outcome: 'error', seconds, detail: message.trim(), errors: app.consoleErrors };
    }
    return { side, outcome: 'timeout', seconds, detail: `no mask or error within ${limitS} s (state ${state})`, errors: app.consoleErrors };
  } catch (e) {
    return { side, outcome: crashed ? 'crash' : 'failure', detail: String(e.message ?? e).split('\n')[0], errors: app.consoleErrors };
  } finally {
    await browser.close().catch(() => {});
  }
}
