// On WebGPU (SwiftShader when headless): dropped samples get exactly the CLI's masks, the
// overlay shows on the canvas where the mask is, and nothing goes over the network after load.
// The small untrained placeholder is used: SwiftShader is far too slow for the trained model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openApp, defaultModelPath, SAMPLES, THRESHOLD_MODEL, PLACEHOLDER } from '../lib/setup.mjs';
import { cliMask } from '../lib/cli.mjs';
import { maskAgreement } from '../lib/app.mjs';

const SAMPLE = path.join(SAMPLES, 't1_head_axial.png');
let ctx;
let requestsAfterLoad;
let exported;

before(async () => {
  ctx = await openApp({ webgpu: true, query: `?model=${PLACEHOLDER}` });
  requestsAfterLoad = [];
  ctx.page.on('request', (r) => requestsAfterLoad.push(r.url()));
});
after(async () => ctx?.close());

test('the backend is WebGPU, with its adapter', async () => {
  const text = await ctx.app.backendText();
  assert.match(text, /WebGPU/, text);
});

test('the untrained placeholder says so and matches the CLI', async () => {
  assert.ok(await ctx.page.locator('[data-testid=untrained-warning]').isVisible());
  await ctx.app.dropFiles([SAMPLE]);
  await ctx.app.waitForState('done');
  const { name, bytes } = await ctx.app.exportMask();
  assert.equal(name, 't1_head_axial.mask.png');
  const { fraction, width, height } = maskAgreement(bytes, cliMask(defaultModelPath(PLACEHOLDER), SAMPLE));
  assert.deepEqual([width, height], [245, 281], 'mask at the image resolution');
  assert.ok(fraction >= 0.999, `only ${(fraction * 100).toFixed(3)} % of pixels agree with the CLI`);
});

test('a mask with structure equals the CLI mask', async () => {
  // Switching models re-runs the items already there with the new model.
  await ctx.app.switchModel(THRESHOLD_MODEL, 'threshold');
  await ctx.app.waitForState('done');
  exported = await ctx.app.exportMask();
  const { fraction, mask } = maskAgreement(exported.bytes, cliMask(THRESHOLD_MODEL, SAMPLE));
  const foreground = mask.data.filter((v) => v > 0).length / mask.data.length;
  assert.ok(foreground > 0.1 && foreground < 0.9, `foreground fraction ${foreground}`);
  assert.ok(fraction >= 0.999, `only ${(fraction * 100).toFixed(3)} % of pixels agree with the CLI`);
});

test('the overlay is drawn where the mask is, and the m key hides it', async () => {
  assert.ok(exported, 'needs the previous test');
  const { mask } = maskAgreement(exported.bytes, exported.bytes);
  const shown = await ctx.app.canvasPixels();
  assert.deepEqual([shown.width, shown.height], [mask.width, mask.height]);
  const tinted = (px, i) => !(px.data[i * 4] === px.data[i * 4 + 1] && px.data[i * 4 + 1] === px.data[i * 4 + 2]);
  let mismatches = 0;
  for (let i = 0; i < mask.data.length; i++) {
    // The sample is greyscale: exactly the mask's pixels carry the class colour.
    if ((mask.data[i] > 0) !== tinted(shown, i)) mismatches++;
  }
  assert.ok(mismatches <= mask.data.length * 0.001, `${mismatches} pixels disagree with the mask`);
  await ctx.app.toggleMask();
  const hidden = await ctx.app.canvasPixels();
  const stillTinted = mask.data.reduce((n, _, i) => n + tinted(hidden, i), 0);
  assert.equal(stillTinted, 0, 'with the mask hidden the canvas shows only the grey image');
  await ctx.app.toggleMask();
});

test('no network request after the page and model loaded', async () => {
  const network = requestsAfterLoad.filter((u) => !u.startsWith('blob:') && !u.startsWith('data:'));
  assert.deepEqual(network, []);
});
