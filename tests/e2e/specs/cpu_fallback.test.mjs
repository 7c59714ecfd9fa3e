// Without WebGPU the app falls back to the CPU backend, says so with the reason, and still
// produces the CLI's mask.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openApp, defaultModelPath, SAMPLES, THRESHOLD_MODEL } from '../lib/setup.mjs';
import { cliMask } from '../lib/cli.mjs';
import { maskAgreement } from '../lib/app.mjs';

const SAMPLE = path.join(SAMPLES, 'mni_t1_coronal.png');
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

test('the CPU fallback gives the CLI mask', async () => {
  await ctx.app.dropFiles([SAMPLE]);
  await ctx.app.waitForState('done');
  const { bytes } = await ctx.app.exportMask();
  const { fraction } = maskAgreement(bytes, cliMask(defaultModelPath(), SAMPLE));
  assert.ok(fraction >= 0.999, `only ${(fraction * 100).toFixed(3)} % agree`);
});

test('the CPU fallback gives the CLI mask with structure too', async () => {
  await ctx.app.switchModel(THRESHOLD_MODEL, 'threshold');
  await ctx.app.waitForState('done');
  const { bytes } = await ctx.app.exportMask();
  const { fraction } = maskAgreement(bytes, cliMask(THRESHOLD_MODEL, SAMPLE));
  assert.ok(fraction >= 0.999, `only ${(fraction * 100).toFixed(3)} % agree`);
});
