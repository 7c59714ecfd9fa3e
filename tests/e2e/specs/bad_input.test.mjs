// Bad files get a message on their own item and the app keeps working; a file that is not a
// U-Net checkpoint gets a clear error and the previous model stays; a user's own model works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openApp, SAMPLES, ROOT, PLACEHOLDER } from '../lib/setup.mjs';
import { cliMask } from '../lib/cli.mjs';
import { maskAgreement } from '../lib/app.mjs';

const SAMPLE = path.join(SAMPLES, 't1_head_sagittal.png');
const TINY = path.join(ROOT, 'crates/unet/tests/fixtures/parity');
let ctx;

before(async () => {
  ctx = await openApp({ webgpu: true, query: `?model=${PLACEHOLDER}` });
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

test('a file that is not a U-Net checkpoint: clear error, previous model kept', async () => {
  await ctx.app.loadModel({ name: 'not-a-unet.safetensors', mimeType: 'application/octet-stream', buffer: crypto.randomBytes(2048) });
  const error = ctx.page.locator('[data-testid=model-error]');
  await error.waitFor({ timeout: 60_000 });
  assert.match(await error.textContent(), /model format|checkpoint|safetensors/i);
  await ctx.app.waitForState(['done', 'idle']);
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
