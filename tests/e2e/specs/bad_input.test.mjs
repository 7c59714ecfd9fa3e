// Bad files get a message on their own item and the app keeps working; a file that is not a
// U-Net checkpoint gets a clear error and the previous model stays; a user's own model works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openApp, SAMPLES, ROOT, PLACEHOLDER } from '../lib/setup.mjs';
import { cliMask } from '../lib/cli.mjs';
import { maskAgreement } from '../lib/app.mjs';
import { encodeGreyPng } from '../lib/png.mjs';

const SAMPLE = path.join(SAMPLES, 't1_head_sagittal.png');
const TINY = path.join(ROOT, 'crates/unet/tests/fixtures/parity');
let ctx;

before(async () => {
  // No offline worker: a tampered download below must reach the page, not the worker's store.
  ctx = await openApp({ webgpu: true, query: `?model=${PLACEHOLDER}`, serviceWorkers: 'block' });
});
after(async () => ctx?.close());

async function itemError(name) {
  const item = ctx.page.locator(`[data-testid=item][data-name="${name}"]`);
  await item.locator('[data-testid=item-error]').waitFor({ timeout: 60_000 });
  assert.equal(await item.getAttribute('data-state'), 'error');
  return item.locator('[data-testid=item-error]').textContent();
}

test('random bytes named x.png: a message on that item', async () => {
  await ctx.app.dropFiles([{ name: 'x.png', buffer: crypto.randomBytes(4096) }]);
  const message = await itemError('x.png');
  assert.match(message, /not a supported image|truncated or corrupt/, message);
  await ctx.app.waitForState('error');
});

test('a truncated PNG: a message on that item', async () => {
  const whole = fs.readFileSync(SAMPLE);
  await ctx.app.dropFiles([{ name: 'truncated.png', buffer: whole.subarray(0, whole.length >> 1) }]);
  const message = await itemError('truncated.png');
  assert.match(message, /truncated or corrupt/, message);
});

test('after bad files a good one is still segmented', async () => {
  await ctx.app.dropFiles([SAMPLE]);
  await ctx.app.waitForState('done');
  const { name } = await ctx.app.exportMask();
  assert.equal(name, 't1_head_sagittal.mask.png');
  assert.equal(await ctx.page.locator('[data-testid=item][data-state=error]').count(), 2);
});

// A small file whose pixels would not fit the tab: 16384² zeros deflate to a few hundred KB. The
// wasm build caps images at 8192² (MAX_PIXELS), checked on the header before any pixel buffer.
test('a PNG declaring 16384×16384 pixels: a message on that item, and the page keeps working', async () => {
  const side = 16384;
  const png = encodeGreyPng(side, side, Buffer.alloc(side * side));
  assert.ok(png.length < 2_000_000, `${png.length} bytes`);
  await ctx.app.dropFiles([{ name: 'huge.png', buffer: png }]);
  const message = await itemError('huge.png');
  assert.match(message, /16384×16384 pixels, more than the limit/, message);
  await ctx.app.dropFiles([{ name: 'after-huge.png', buffer: fs.readFileSync(SAMPLE) }]);
  await ctx.page.locator('[data-testid=item][data-name="after-huge.png"][data-state=done]').waitFor({ timeout: 60_000 });
});

test('a file that is not a U-Net checkpoint: clear error, previous model kept', async () => {
  await ctx.app.loadModel({ name: 'not-a-unet.safetensors', mimeType: 'application/octet-stream', buffer: crypto.randomBytes(2048) });
  const error = ctx.page.locator('[data-testid=model-error]');
  await error.waitFor({ timeout: 60_000 });
  assert.match(await error.textContent(), /model format|checkpoint|safetensors/i);
  await ctx.app.waitForState(['done', 'idle']);
});

// The server hands out a bundled model whose bytes differ from the ones the page was built with
// (one byte changed): the manifest's SHA-256 catches it before the engine sees it.
test('a bundled model that differs from the manifest: clear error, previous model kept', async () => {
  const file = path.join(ROOT, 'assets/models/brain-extraction.unet.safetensors');
  const tampered = Buffer.from(fs.readFileSync(file));
  tampered[tampered.length - 1] ^= 0xff;
  const pattern = '**/assets/models/brain-extraction.unet.safetensors';
  await ctx.page.route(pattern, (route) => route.fulfill({ status: 200, body: tampered, contentType: 'application/octet-stream' }));
  try {
    await ctx.page.locator('[data-testid=model-select]').selectOption('brain-extraction');
    // The earlier test's error may still show: wait for this one's.
    await ctx.page.waitForFunction(
      () => /SHA-256/.test(document.querySelector('[data-testid=model-error]')?.textContent ?? ''),
      null,
      { timeout: 60_000 },
    );
    const message = await ctx.page.locator('[data-testid=model-error]').textContent();
    assert.match(message, /SHA-256 .* manifest lists/, message);
    await ctx.app.waitForState(['done', 'idle', 'error']);
  } finally {
    await ctx.page.unroute(pattern);
  }
});

test('the user\'s own model (.safetensors) is loaded and used', async () => {
  const model = path.join(TINY, 'bilinear_c1_k1.safetensors');
  const image = path.join(TINY, 'bilinear_c1_k1.png');
  await ctx.app.switchModel(model, 'bilinear_c1_k1');
  await ctx.app.waitForState(['done', 'idle', 'error']);
  await ctx.app.dropFiles([image]);
  await ctx.app.waitForState('done');
  const { bytes } = await ctx.app.exportMask();
  const { fraction } = maskAgreement(bytes, cliMask(model, image));
  assert.ok(fraction >= 0.999, `only ${(fraction * 100).toFixed(3)} % agree`);
});

// Files are sized (File.size) before they are read: a 1.5 GiB file, sparse on disk so the test
// writes nothing, is refused by its size alone and the next file is segmented.
test('a file larger than the page reads: refused by its size, unread, and the page keeps working', async () => {
  const big = path.join(os.tmpdir(), `unet-e2e-${process.pid}-big.nii`);
  fs.closeSync(fs.openSync(big, 'w'));
  fs.truncateSync(big, 1.5 * 2 ** 30);
  try {
    await ctx.app.dropFiles([big]);
    const message = await itemError(path.basename(big));
    assert.match(message, /the file is 1\.5 GiB, more than the 1\.0 GiB this page reads/, message);
  } finally {
    fs.rmSync(big, { force: true });
  }
  await ctx.app.dropFiles([{ name: 'after-big.png', buffer: fs.readFileSync(SAMPLE) }]);
  await ctx.page.locator('[data-testid=item][data-name="after-big.png"][data-state=done]').waitFor({ timeout: 60_000 });
});

// "No pixel leaves the machine", enforced by the browser: the built page carries a
// Content-Security-Policy that lets it connect to its own origin only. Everything the tests
// above did (segmenting, exporting, loading models, failing on bad files) ran under it.
test('the page may connect to its own origin only, and nothing it does breaks that policy', async () => {
  const csp = await ctx.page.locator('meta[http-equiv=Content-Security-Policy]').getAttribute('content');
  assert.match(csp, /(^|; )connect-src 'self'(;|$)/, csp);
  assert.deepEqual(await ctx.page.evaluate(() => window.cspViolations), []);
  const refused = await ctx.page.evaluate(() => new Promise((resolve) => {
    document.addEventListener('securitypolicyviolation', (e) => resolve(`${e.effectiveDirective} ${e.blockedURI}`), { once: true });
    fetch('http://127.0.0.2:9/upload', { method: 'POST', body: 'pixels' }).catch(() => {});
  }));
  assert.match(refused, /^connect-src http:\/\/127\.0\.0\.2:9/, refused);
});

// A trap (what an out-of-memory abort becomes in wasm) reaches the window's error listener in
// index.html, which puts the error state and what to do in the status line. The trap is raised
// from JS here: a real one would end this shared page for the tests after it.
test('a wasm trap turns the status into an error that says what to do', async () => {
  await ctx.page.evaluate(() => {
    setTimeout(() => {
      throw new WebAssembly.RuntimeError('unreachable');
    });
  });
  await ctx.app.waitForState('error');
  const status = await ctx.page.locator('[data-testid=status]').textContent();
  assert.match(status, /ran out of memory or stopped .*Reload the page/, status);
});
