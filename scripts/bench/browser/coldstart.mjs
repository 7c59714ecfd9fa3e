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

/** One cold start with WebGPU on or off; times in ms from just before page.goto. */
export async function coldStart({ appUrl, slice, webgpu, limitS }) {
  log(`cold start, WebGPU ${webgpu ? 'on' : 'off'}`);
  const browser = await launch({ webgpu });
  const page = await browser.context.newPage();
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
    return { ok: true, webgpu, backend: backend.trim(), readyMs, maskMs, timings: timings.trim() };
  } catch (e) {
    const backend = await app.backendText().catch(() => '?');
    return { ok: false, webgpu, backend, error: String(e.message ?? e).split('\n')[0] };
  } finally {
    await browser.close();
  }
}
