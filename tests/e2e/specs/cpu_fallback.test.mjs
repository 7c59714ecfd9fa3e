// Without WebGPU the app falls back to the CPU backend, says so with the reason, and still
// produces the CLI's mask, with the trained default model; and the README's screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openApp, defaultModelPath, SAMPLES, ROOT, THRESHOLD_MODEL } from '../lib/setup.mjs';
import { cliMask } from '../lib/cli.mjs';
import { maskAgreement } from '../lib/app.mjs';

const SAMPLE = path.join(SAMPLES, 't1_head_coronal.png');
let ctx;

before(async () => {
  ctx = await openApp({ webgpu: false });
});
after(async () => ctx?.close());

test('the backend says CPU and why', async () => {
  const text = await ctx.app.backendText();
  assert.match(text, /CPU/, text);
  assert.match(text, /WebGPU/, `the reason names WebGPU: ${text}`);
});

test('the default model is the trained brain-extraction model', async () => {
  const card = await ctx.page.locator('[data-testid=model-card]').textContent();
  assert.match(card, /Brain extraction/, card);
  assert.equal(await ctx.page.locator('[data-testid=untrained-warning]').count(), 0);
});

test('the CPU fallback gives the CLI mask, and the brain is found', async () => {
  await ctx.app.dropFiles([SAMPLE]);
  await ctx.app.waitForState('done');
  const { bytes } = await ctx.app.exportMask();
  const { fraction, mask } = maskAgreement(bytes, cliMask(defaultModelPath(), SAMPLE));
  assert.ok(fraction >= 0.999, `only ${(fraction * 100).toFixed(3)} % agree`);
  // A coronal slice through the brain: brain is a sizeable part of it, but far from all.
  const brain = mask.data.filter((v) => v > 0).length / mask.data.length;
  assert.ok(brain > 0.15 && brain < 0.6, `brain fraction ${brain}`);
});

test('screenshot of the app with the brain mask (docs/screenshot.png)', async () => {
  await ctx.app.screenshot(path.join(ROOT, 'docs/screenshot.png'));
});

test('the CPU fallback gives the CLI mask with structure too', async () => {
  await ctx.app.switchModel(THRESHOLD_MODEL, 'threshold');
  await ctx.app.waitForState('done');
  const { bytes } = await ctx.app.exportMask();
  const { fraction } = maskAgreement(bytes, cliMask(THRESHOLD_MODEL, SAMPLE));
  assert.ok(fraction >= 0.999, `only ${(fraction * 100).toFixed(3)} % agree`);
});
