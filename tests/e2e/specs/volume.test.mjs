// A NIfTI volume in the app, on the CPU backend with the default (brain) model: it opens on its
// middle axial slice; the slider, the keyboard and the wheel scroll; the plane changes the slice
// count; window presets change the display; "segment all" runs all three planes (the brain
// model's card fuses them) with progress; the exported .nii.gz has the input's geometry and
// equals `unet predict`'s label map (same planes, scaling and 3-D post-processing) voxel for
// voxel; a
// truncated volume gets an item error and the app keeps working.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { anatomicalVolume, openApp, ROOT, defaultModelPath } from '../lib/setup.mjs';
import { cliVolumeMask, plainVolumeModel, PLAIN_CARD_NAME } from '../lib/cli.mjs';
import { blockMean, readNifti, writeNifti } from '../lib/nifti.mjs';

// 33×41×25 int16 head, big-endian, 2 mm, sform: i → left, j → anterior, k → superior.
const VOLUME = anatomicalVolume();
let ctx;

before(async () => {
  ctx = await openApp({ webgpu: false });
});
after(async () => ctx?.close());

const byId = (id) => ctx.page.locator(`[data-testid=${id}]`);

/** Clicks "segment all", waits for `progress` (`done / total`), exports the label map. */
async function segmentAllAndExport(progress, timeout = 240_000) {
  await byId('segment-all').click();
  await ctx.page.waitForFunction(
    (done) => document.querySelector('[data-testid=volume-progress]')?.textContent === done,
    progress,
    { timeout, polling: 100 },
  );
  const [download] = await Promise.all([
    ctx.page.waitForEvent('download'),
    byId('export-nifti').click(),
  ]);
  return download;
}

async function sliceIs(text) {
  try {
    await ctx.page.waitForFunction(
      (t) => document.querySelector('[data-testid=slice-index]')?.textContent === t,
      text,
      { timeout: 30_000, polling: 50 },
    );
  } catch {
    assert.equal(await byId('slice-index').textContent(), text);
  }
}

test('a dropped NIfTI volume opens on its middle axial slice with its info', async () => {
  await ctx.app.dropFiles([VOLUME]);
  await ctx.page.locator('[data-testid=item][data-name="anatomical.nii"][data-state=done]').waitFor();
  await ctx.app.waitForState('done');
  const info = await byId('item-info').textContent();
  assert.match(info, /NIfTI-1/, info);
  assert.match(info, /33×41×25/, info);
  assert.match(info, /spacing 2 × 2 × 2 mm/, info);
  assert.equal(await byId('plane-select').inputValue(), 'axial');
  await sliceIs('13 / 25');
  // Axial slices: rows anterior → posterior (j, 41), columns right → left (i, 33).
  const { width, height } = await ctx.app.canvasPixels();
  assert.deepEqual([width, height], [33, 41]);
  assert.equal(await byId('frame-select').count(), 0, 'a 3-D file has no frame choice');
});

test('the slider, the arrow keys and the wheel scroll through slices', async () => {
  await byId('slice-slider').evaluate((el) => {
    el.value = '4';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  await sliceIs('5 / 25');
  await ctx.page.locator('footer').click();
  await ctx.page.keyboard.press('ArrowUp');
  await sliceIs('6 / 25');
  await ctx.page.keyboard.press('ArrowDown');
  await ctx.page.keyboard.press('ArrowDown');
  await sliceIs('4 / 25');
  await ctx.page.keyboard.press('ArrowDown');
  await ctx.page.keyboard.press('ArrowDown');
  await ctx.page.keyboard.press('ArrowDown');
  await ctx.page.keyboard.press('ArrowDown');
  await sliceIs('1 / 25');
  const viewer = byId('viewer');
  const box = await ctx.page.locator('.viewport').boundingBox();
  await ctx.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await ctx.page.mouse.wheel(0, -120);
  await sliceIs('2 / 25');
  assert.equal(await viewer.count(), 1);
});

test('each plane has its own slice count', async () => {
  for (const [plane, text, size] of [
    ['coronal', '21 / 41', [33, 25]],
    ['sagittal', '17 / 33', [41, 25]],
    ['axial', '13 / 25', [33, 41]],
  ]) {
    await byId('plane-select').selectOption(plane);
    await sliceIs(text);
    const { width, height } = await ctx.app.canvasPixels();
    assert.deepEqual([width, height], size, plane);
  }
});

test('window presets and typed values change the display only', async () => {
  assert.equal(await byId('window-preset').inputValue(), 'full range');
  const before = await ctx.app.canvasPixels();
  await byId('window-preset').selectOption('brain');
  assert.equal(await byId('window-center').inputValue(), '40');
  assert.equal(await byId('window-width').inputValue(), '80');
  await ctx.page.waitForFunction(() => true);
  const brain = await ctx.app.canvasPixels();
  assert.notDeepEqual(brain.data, before.data, 'the brain window looks different');
  await byId('window-width').fill('500');
  await byId('window-width').dispatchEvent('change');
  assert.equal(await byId('window-preset').inputValue(), 'custom');
  await byId('window-preset').selectOption('full range');
});

// Every slice of the three planes: 25 axial + 41 coronal + 33 sagittal.
const ALL_PLANES = '99 / 99';

test('"segment all" reaches every slice and the NIfTI export equals unet predict', async () => {
  const download = await segmentAllAndExport(ALL_PLANES);
  assert.equal(download.suggestedFilename(), 'anatomical.mask.nii.gz');
  const exported = readNifti(fs.readFileSync(await download.path()));
  const input = readNifti(fs.readFileSync(VOLUME));
  assert.deepEqual(exported.dims, [33, 41, 25]);
  assert.equal(exported.datatype, 2, 'uint8 labels');
  assert.deepEqual(exported.pixdim, input.pixdim);
  assert.deepEqual(exported.srow, input.srow);
  const labels = exported.data;
  assert.equal(labels.length, 33 * 41 * 25);
  assert.ok(labels.every((v) => v === 0 || v === 1), 'labels are 0/1');
  // A 2 mm block from inside a brain is outside the brain model's input policy (a whole head):
  // its card's threshold and opening leave it (nearly) empty. The whole-head test below compares
  // a real brain's label map with unet predict's.
  const foreground = labels.reduce((n, v) => n + v, 0);
  assert.ok(foreground < labels.length, `${foreground} foreground voxels`);

  const cli = readNifti(cliVolumeMask(defaultModelPath(), VOLUME));
  assert.deepEqual(cli.dims, exported.dims);
  assert.deepEqual(cli.srow, exported.srow);
  let differ = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== cli.data[i]) differ++;
  // The same CPU kernels as the CLI: a voxel may only flip where a logit is within rounding of 0.
  assert.ok(differ <= labels.length * 0.001, `${differ} of ${labels.length} voxels differ from unet predict`);
});

// A whole head with skull, face and neck: the held-out Colin27 (scripts/data/fetch_heads.sh)
// averaged to 2 mm (90×108×90), so the comparison runs where the model labels a real brain.
test('a whole head at 2 mm: the app\'s label map equals unet predict\'s and matches BET', async () => {
  const heads = path.join(ROOT, 'data/heads');
  const head = path.join(heads, 'colin27.nii.gz');
  assert.ok(fs.existsSync(head), `${head} is missing: run scripts/data/fetch_heads.sh`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-head-'));
  const file = path.join(dir, 'colin27_2mm.nii');
  const volume = blockMean(fs.readFileSync(head), 2);
  fs.writeFileSync(file, writeNifti(volume));
  const reference = blockMean(fs.readFileSync(path.join(heads, 'colin27_brain.nii.gz')), 2);
  await ctx.app.dropFiles([file]);
  const item = ctx.page.locator('[data-testid=item][data-name="colin27_2mm.nii"]');
  await ctx.page.locator('[data-testid=item][data-name="colin27_2mm.nii"][data-state=done]').waitFor({ timeout: 60_000 });
  await item.click();
  assert.match(await byId('item-info').textContent(), /90×108×90/);
  const download = await segmentAllAndExport('288 / 288', 400_000);
  assert.equal(download.suggestedFilename(), 'colin27_2mm.mask.nii.gz');
  const exported = readNifti(fs.readFileSync(await download.path()));
  const cli = readNifti(cliVolumeMask(defaultModelPath(), file));
  fs.rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(exported.dims, [90, 108, 90]);
  let differ = 0;
  for (let i = 0; i < cli.data.length; i++) if (exported.data[i] !== cli.data[i]) differ++;
  assert.ok(differ <= cli.data.length * 0.001, `${differ} voxels differ from unet predict`);
  let both = 0;
  let predicted = 0;
  let truth = 0;
  reference.data.forEach((r, i) => {
    const p = exported.data[i] > 0;
    const t = r >= 0.5;
    predicted += p;
    truth += t;
    both += p && t;
  });
  const dice = (2 * both) / (predicted + truth);
  // unet predict's twin measured 0.956 on this grid with the card's threshold and opening (0.940
  // before them); the bound leaves room for rounding, not for a mask that misses the brain.
  assert.ok(dice >= 0.9, `Dice ${dice.toFixed(3)} against BET`);

  // The stats table and its CSV: the brain's voxels counted here in the exported label map,
  // 8 mm³ each, and the mean of the input inside them.
  const [csvDownload] = await Promise.all([ctx.page.waitForEvent('download'), byId('export-stats').click()]);
  assert.equal(csvDownload.suggestedFilename(), 'colin27_2mm.stats.csv');
  const csv = fs.readFileSync(await csvDownload.path(), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'class,name,count,area_mm2,volume_ml,mean_intensity');
  const brain = csv[2].split(',');
  assert.equal(brain[1], 'brain');
  let count = 0;
  let sum = 0;
  exported.data.forEach((v, i) => {
    if (v === 1) {
      count++;
      sum += volume.data[i];
    }
  });
  assert.equal(Number(brain[2]), count);
  assert.ok(Math.abs(Number(brain[4]) - (count * 8) / 1000) < 1e-3, `${brain[4]} mL for ${count} voxels`);
  assert.ok(Math.abs(Number(brain[5]) - sum / count) < 1e-3 * (sum / count), `mean ${brain[5]} vs ${sum / count}`);
  // The brain's surface: an STL whose enclosed volume (divergence theorem, read here from its
  // bytes) is the voxel volume within 5 %.
  const [stlDownload] = await Promise.all([ctx.page.waitForEvent('download'), byId('export-stl').click()]);
  assert.equal(stlDownload.suggestedFilename(), 'colin27_2mm.brain.stl');
  const stl = fs.readFileSync(await stlDownload.path());
  const triangles = stl.readUInt32LE(80);
  assert.equal(stl.length, 84 + 50 * triangles);
  let enclosed = 0;
  for (let t = 0; t < triangles; t++) {
    const v = (i) => [0, 1, 2].map((c) => stl.readFloatLE(84 + 50 * t + 12 + 12 * i + 4 * c));
    const [a, b, c] = [v(0), v(1), v(2)];
    enclosed += (a[0] * (b[1] * c[2] - b[2] * c[1]) + a[1] * (b[2] * c[0] - b[0] * c[2]) + a[2] * (b[0] * c[1] - b[1] * c[0])) / 6;
  }
  assert.ok(Math.abs(enclosed / (count * 8) - 1) < 0.05, `${enclosed} mm³ enclosed, ${count * 8} mm³ of voxels`);
  for (const row of csv.slice(1)) {
    const [k, , n, , ml] = row.split(',');
    const cells = ctx.page.locator(`[data-testid=stats-row][data-class="${k}"]`);
    assert.equal(await cells.locator('[data-field=count]').textContent(), n);
    assert.equal(await cells.locator('[data-field=volume_ml]').textContent(), Number(ml).toFixed(2));
  }
});

test('a DICOM image shows its own window and its file info', async () => {
  const mr = path.join(ROOT, 'data/fixtures/pydicom/MR_small.dcm');
  await ctx.app.dropFiles([mr]);
  await ctx.page.locator('[data-testid=item][data-name="MR_small.dcm"][data-state=done]').waitFor();
  const info = await byId('item-info').textContent();
  assert.match(info, /DICOM/, info);
  assert.match(info, /modality MR/, info);
  assert.equal(await byId('window-preset').inputValue(), 'file');
  assert.equal(await byId('slice-slider').count(), 0, 'a 2-D image has no slices');
  const { name } = await ctx.app.exportMask();
  assert.equal(name, 'MR_small.mask.png');
});

// 25 axial slices pydicom wrote from the same head (scripts/data/make_series.py), file names
// shuffled against slice order, plus a localizer of another series and a README.
const SERIES = path.join(ROOT, 'crates/imaging/tests/data/series/anatomical');

// The series is nibabel's block from inside a brain: see plainVolumeModel.
test('dropped DICOM files stack into one series volume and export like unet predict', async () => {
  const model = plainVolumeModel();
  await ctx.app.switchModel(model, PLAIN_CARD_NAME);
  const files = fs.readdirSync(SERIES).sort().map((f) => path.join(SERIES, f));
  await ctx.app.dropFiles(files);
  // Without folders the series is named by its first file; the localizer stands alone.
  const series = ctx.page.locator('[data-testid=item][data-name="IM0001"]');
  await series.waitFor({ timeout: 60_000 });
  await ctx.page.locator('[data-testid=item][data-name="LOCALIZER"]').waitFor();
  await ctx.page.locator('[data-testid=item][data-name="README.txt"][data-state=error]').waitFor();
  await series.click();
  const info = await byId('item-info').textContent();
  assert.match(info, /25 files/, info);
  assert.match(info, /33×41×25/, info);
  assert.equal(await byId('window-preset').inputValue(), 'file');
  const download = await segmentAllAndExport(ALL_PLANES);
  const exported = readNifti(fs.readFileSync(await download.path()));
  const cli = readNifti(cliVolumeMask(model, SERIES));
  assert.deepEqual(exported.dims, [33, 41, 25]);
  assert.deepEqual(exported.srow, cli.srow, 'the geometry built from the DICOM headers');
  let differ = 0;
  for (let i = 0; i < cli.data.length; i++) if (exported.data[i] !== cli.data[i]) differ++;
  assert.ok(differ <= cli.data.length * 0.001, `${differ} voxels differ from unet predict`);
  const foreground = exported.data.reduce((n, v) => n + v, 0);
  assert.ok(foreground > 0 && foreground < exported.data.length, `${foreground} foreground voxels`);
  // The same label map as a DICOM SEG over the 25 source images, read back by highdicom
  // (scripts/checks/read_seg.py): its one segment covers exactly the brain voxels of the NIfTI
  // above, each pixel placed by its source image's own header.
  const [segDownload] = await Promise.all([ctx.page.waitForEvent('download'), byId('export-seg').click()]);
  assert.equal(segDownload.suggestedFilename(), 'IM0001.seg.dcm');
  const nifti = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'seg-')), 'IM0001.mask.nii.gz');
  fs.copyFileSync(await download.path(), nifti);
  const sources = files.filter((f) => path.basename(f).startsWith('IM'));
  const report = JSON.parse(
    execFileSync(path.join(ROOT, '.venv/bin/python'), [
      path.join(ROOT, 'scripts/checks/read_seg.py'),
      await segDownload.path(),
      nifti,
      ...sources,
    ]).toString(),
  );
  assert.equal(report.referenced, 25, JSON.stringify(report));
  assert.equal(report.compared, 25 * 33 * 41);
  assert.deepEqual(report.segments.map((s) => [s.label, s.type]), [['brain', 'Brain']]);
  assert.deepEqual(report.per_segment['1'], { seg_pixels: foreground, values: { 1: foreground } });
  assert.equal(report.labelled_not_in_a_segment, 0);
  await ctx.app.switchModel(defaultModelPath(), 'Brain extraction (T1 MRI)');
});

test('a truncated .nii.gz gets an item error and the app keeps working', async () => {
  const gz = zlib.gzipSync(fs.readFileSync(VOLUME));
  const truncated = gz.subarray(0, gz.length >> 1);
  await ctx.app.dropFiles([{ name: 'truncated.nii.gz', mimeType: 'application/gzip', buffer: truncated }]);
  const item = ctx.page.locator('[data-testid=item][data-name="truncated.nii.gz"]');
  await item.locator('[data-testid=item-error]').waitFor({ timeout: 60_000 });
  assert.equal(await item.getAttribute('data-state'), 'error');
  const message = await item.locator('[data-testid=item-error]').textContent();
  assert.ok(!message.includes('\n') && message.length > 0, message);
  await ctx.page.locator('[data-testid=item][data-name="anatomical.nii"]').click();
  await sliceIs('13 / 25');
  await ctx.page.keyboard.press('ArrowUp');
  await sliceIs('14 / 25');
  await ctx.app.waitForState('done');
});
