// The other ways in and out, on the (fast) CPU backend: a drop anywhere on the page, a paste,
// the sample buttons, a model dropped onto the page, cancelling a batch, and the zip export.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openApp, SAMPLES, THRESHOLD_MODEL } from '../lib/setup.mjs';
import { decodePng } from '../lib/png.mjs';

let ctx;

before(async () => {
  ctx = await openApp({ webgpu: false });
});
after(async () => ctx?.close());

/** Dispatches a synthetic `type` event (drop or paste) carrying files, on `selector`'s element. */
async function dispatchFiles(type, selector, files) {
  const payload = files.map((f) => ({ name: f.name, type: f.type, bytes: [...fs.readFileSync(f.path)] }));
  await ctx.page.evaluate(({ type, selector, payload }) => {
    const transfer = new DataTransfer();
    for (const f of payload) transfer.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    const target = document.querySelector(selector);
    const event = type === 'paste'
      ? new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true })
      : new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true });
    target.dispatchEvent(event);
  }, { type, selector, payload });
}

const items = () => ctx.page.locator('[data-testid=item]');

test('an image dropped anywhere on the page is segmented', async () => {
  const file = { name: 'dropped.png', type: 'image/png', path: path.join(SAMPLES, 't1_head_axial.png') };
  await dispatchFiles('drop', 'footer', [file]);
  await ctx.page.locator('[data-testid=item][data-name="dropped.png"][data-state=done]').waitFor();
  await ctx.app.waitForState('done');
});

test('a pasted image is segmented', async () => {
  const file = { name: 'pasted.png', type: 'image/png', path: path.join(SAMPLES, 't1_head_coronal.png') };
  await dispatchFiles('paste', 'body', [file]);
  await ctx.page.locator('[data-testid=item][data-name="pasted.png"][data-state=done]').waitFor();
});

test('"Try a sample" loads and segments a bundled sample', async () => {
  await ctx.page.locator('[data-testid=sample]').first().click();
  await ctx.page.locator('[data-testid=item][data-name="t1_head_axial.png"][data-state=done]').waitFor();
});

// The stats table of an image: per class, the exported mask's pixels counted here, and the
// sample's mean grey level inside them; a PNG states no spacing, so no area.
test('the stats table counts the exported mask\'s pixels, as its CSV does', async () => {
  await ctx.page.locator('[data-testid=item][data-name="t1_head_axial.png"]').click();
  await ctx.page.locator('[data-testid=stats]').waitFor();
  const mask = decodePng((await ctx.app.exportMask()).bytes);
  const image = decodePng(fs.readFileSync(path.join(SAMPLES, 't1_head_axial.png')));
  const counts = [0, 0];
  const sums = [0, 0];
  // A one-output (sigmoid) model's mask PNG stores its foreground as 255.
  mask.data.forEach((v, i) => {
    const k = v === 255 ? 1 : v;
    counts[k]++;
    sums[k] += image.data[i * image.channels];
  });
  const [download] = await Promise.all([
    ctx.page.waitForEvent('download'),
    ctx.page.locator('[data-testid=export-stats]').click(),
  ]);
  assert.equal(download.suggestedFilename(), 't1_head_axial.stats.csv');
  const rows = fs.readFileSync(await download.path(), 'utf8').trim().split('\n').slice(1);
  assert.equal(rows.length, 2);
  for (const row of rows) {
    const [k, name, count, area, , mean] = row.split(',');
    assert.equal(Number(count), counts[k], `${name}: ${count} pixels in the CSV, ${counts[k]} in the mask`);
    assert.equal(area, '');
    assert.ok(Math.abs(Number(mean) - sums[k] / counts[k]) < 1e-3, `${name}: mean ${mean}`);
    const cells = ctx.page.locator(`[data-testid=stats-row][data-class="${k}"]`);
    assert.equal(await cells.locator('[data-field=count]').textContent(), count);
  }
});

test('a checkpoint dropped onto the page becomes the model', async () => {
  const file = { name: 'threshold.unet.safetensors', type: '', path: THRESHOLD_MODEL };
  await dispatchFiles('drop', 'main', [file]);
  await ctx.page.waitForFunction(
    () => document.querySelector('[data-testid=model-card] summary')?.textContent.includes('threshold'),
  );
  await ctx.app.waitForState('done');
  assert.equal(await items().count(), 3, 'the model file did not become an image item');
});

test('cancel stops the queued items of a batch', async () => {
  const sample = fs.readFileSync(path.join(SAMPLES, 't1_head_sagittal.png'));
  const batch = Array.from({ length: 8 }, (_, i) => ({ name: `batch-${i}.png`, buffer: sample }));
  await ctx.app.dropFiles(batch);
  await ctx.page.locator('[data-testid=cancel]').click();
  await ctx.app.waitForState(['done', 'idle', 'error']);
  const cancelled = await ctx.page.locator('[data-testid=item][data-state=cancelled]').count();
  assert.ok(cancelled >= 1, 'some queued items were cancelled');
  assert.equal(await ctx.page.locator('[data-testid=item][data-state=queued]').count(), 0);
});

test('"all as zip" holds a mask and an overlay per finished item', async () => {
  const done = await ctx.page.locator('[data-testid=item][data-state=done]').count();
  const [download] = await Promise.all([
    ctx.page.waitForEvent('download'),
    ctx.page.locator('[data-testid=export-zip]').click(),
  ]);
  const zip = fs.readFileSync(await download.path());
  // STORED zip: count local file headers and read their names.
  const names = [];
  for (let i = zip.indexOf('PK\x03\x04'); i >= 0; i = zip.indexOf('PK\x03\x04', i + 4)) {
    const nameLength = zip.readUInt16LE(i + 26);
    const extra = zip.readUInt16LE(i + 28);
    const size = zip.readUInt32LE(i + 18);
    names.push(zip.toString('utf8', i + 30, i + 30 + nameLength));
    i += 30 + nameLength + extra + size - 4;
  }
  assert.equal(names.filter((n) => n.startsWith('masks/')).length, done);
  assert.equal(names.filter((n) => n.startsWith('overlays/')).length, done);
  assert.ok(names.includes('masks/dropped.mask.png'), names.join(', '));
});
