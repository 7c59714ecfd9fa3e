// Correcting a mask by hand, on the CPU backend with the default (brain) model: a brush stroke
// changes the exported mask where it was drawn and nowhere else; Ctrl+Z restores the exported
// bytes exactly and Ctrl+Shift+Z brings the stroke back; the eraser and the fill change what
// they should (the fill's region computed here, independently); on a volume, a stroke on one
// axial slice is marked, survives switching planes and "Segment all", reaches the NIfTI export
// in that slice only, and goes with undo or "Discard edits". The three-plane view: a click in
// one pane moves the other two (and the single viewer) to the point, with the mask in each. A
// painted DICOM image exports as a semi-automatic DICOM SEG that highdicom puts on its source.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { anatomicalVolume, defaultModelPath, openApp, ROOT, SAMPLES } from '../lib/setup.mjs';
import { plainVolumeModel, PLAIN_CARD_NAME } from '../lib/cli.mjs';
import { decodePng } from '../lib/png.mjs';
import { readNifti } from '../lib/nifti.mjs';

// 33×41×25 int16 head, big-endian, 2 mm, sform: i → left, j → anterior, k → superior.
const VOLUME = anatomicalVolume();
let ctx;

before(async () => {
  ctx = await openApp({ webgpu: false });
});
after(async () => ctx?.close());

const byId = (id) => ctx.page.locator(`[data-testid=${id}]`);

/** The exported mask as { width, height, data } with 1 for the (one-class) foreground. */
async function exportedMask() {
  const { bytes } = await ctx.app.exportMask();
  const png = decodePng(bytes);
  return { bytes, width: png.width, height: png.height, data: png.data.map((v) => (v === 255 ? 1 : v)) };
}

/** Screen position of image pixel centre (x, y) on the viewer canvas. */
async function screenAt(x, y) {
  return ctx.page.evaluate(([x, y]) => {
    const canvas = document.querySelector('[data-testid=viewer]');
    const r = canvas.getBoundingClientRect();
    return [r.left + ((x + 0.5) / canvas.width) * r.width, r.top + ((y + 0.5) / canvas.height) * r.height];
  }, [x, y]);
}

/** Drags with the left button through image pixels `points`. */
async function stroke(points) {
  // Raw mouse positions only reach what is inside the window.
  await byId('viewer').scrollIntoViewIfNeeded();
  const [x0, y0] = await screenAt(...points[0]);
  await ctx.page.mouse.move(x0, y0);
  await ctx.page.mouse.down();
  for (const p of points.slice(1)) {
    const [x, y] = await screenAt(...p);
    await ctx.page.mouse.move(x, y, { steps: 4 });
  }
  await ctx.page.mouse.up();
}

async function setBrushSize(radius) {
  await byId('brush-size').evaluate((input, r) => {
    input.value = String(r);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, radius);
  await ctx.page.waitForFunction((r) => document.querySelector('[data-testid=brush-size-value]')?.textContent === `${r} px`, radius);
}

/** Positions where two masks differ. */
function differences(a, b) {
  const out = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

/** The 4-connected region of `data` (width `w`) holding the class at (x, y). */
function region(data, w, x, y) {
  const h = data.length / w;
  const cls = data[y * w + x];
  const seen = new Uint8Array(data.length);
  const stack = [y * w + x];
  seen[y * w + x] = 1;
  const out = [];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    const px = p % w;
    const py = Math.floor(p / w);
    for (const [q, ok] of [[p - 1, px > 0], [p + 1, px + 1 < w], [p - w, py > 0], [p + w, py + 1 < h]]) {
      if (ok && !seen[q] && data[q] === cls) {
        seen[q] = 1;
        stack.push(q);
      }
    }
  }
  return out.sort((a, b) => a - b);
}

test('a brush stroke changes the exported mask, and undo and redo restore it', async () => {
  await ctx.app.dropFiles([path.join(SAMPLES, 't1_head_axial.png')]);
  await ctx.page.locator('[data-testid=item][data-name="t1_head_axial.png"][data-state=done]').waitFor();
  await ctx.app.waitForState('done');
  const original = await exportedMask();
  const { width } = original;

  await byId('tool-brush').click();
  assert.equal(await byId('tool-brush').getAttribute('aria-pressed'), 'true');
  await setBrushSize(3);
  // A horizontal stroke across the top-left background, row 12, x 10 → 60.
  await stroke([[10, 12], [35, 12], [60, 12]]);
  const painted = await exportedMask();
  const changed = differences(original.data, painted.data);
  assert.ok(changed.length > 50 * 5, `${changed.length} pixels changed`);
  for (let x = 12; x <= 58; x++) assert.equal(painted.data[12 * width + x], 1, `pixel (${x}, 12) painted`);
  for (const p of changed) {
    const [x, y] = [p % width, Math.floor(p / width)];
    // Within the brush's reach of the stroke (a pixel of slack for the pointer's rounding).
    assert.ok(y >= 12 - 4 && y <= 12 + 4 && x >= 10 - 4 && x <= 60 + 4, `pixel (${x}, ${y}) is off the stroke`);
    assert.equal(painted.data[p], 1);
  }
  await byId('edited-badge').waitFor();

  await ctx.page.keyboard.press('Control+z');
  const undone = await exportedMask();
  assert.ok(undone.bytes.equals(original.bytes), 'undo restores the exported mask exactly');
  await ctx.page.keyboard.press('Control+Shift+z');
  const redone = await exportedMask();
  assert.ok(redone.bytes.equals(painted.bytes), 'redo brings the stroke back');
  // The stats table counts the edited mask.
  const foreground = redone.data.filter((v) => v === 1).length;
  await ctx.page.waitForFunction(
    (n) => document.querySelector('[data-testid=stats-row][data-class="1"] [data-field=count]')?.textContent === String(n),
    foreground,
  );
});

test('the eraser clears and the fill takes the connected region under the pointer', async () => {
  const before = await exportedMask();
  const { width, height } = before;
  // Erase through the mask's centre of foreground.
  let sx = 0;
  let sy = 0;
  let n = 0;
  before.data.forEach((v, i) => {
    if (v === 1 && Math.floor(i / width) > 20) {
      sx += i % width;
      sy += Math.floor(i / width);
      n++;
    }
  });
  const [cx, cy] = [Math.round(sx / n), Math.round(sy / n)];
  assert.equal(before.data[cy * width + cx], 1, 'the centre is foreground');
  await byId('tool-eraser').click();
  await stroke([[cx, cy], [cx + 1, cy]]);
  const erased = await exportedMask();
  assert.equal(erased.data[cy * width + cx], 0, 'erased');
  const erasedCount = differences(before.data, erased.data).length;
  assert.ok(erasedCount > 0 && erasedCount < 100, `${erasedCount} pixels erased by a radius-3 eraser`);

  // Fill the background region at the top-right corner: exactly that region becomes brain.
  const [fx, fy] = [width - 3, 3];
  assert.equal(erased.data[fy * width + fx], 0);
  const expected = region(erased.data, width, fx, fy);
  await byId('tool-fill').click();
  await stroke([[fx, fy]]);
  const filled = await exportedMask();
  assert.deepEqual(differences(erased.data, filled.data), expected);
  // Undo takes back the fill, then the eraser.
  await byId('undo').click();
  assert.ok((await exportedMask()).bytes.equals(erased.bytes));
  await byId('undo').click();
  assert.ok((await exportedMask()).bytes.equals(before.bytes));
  await byId('tool-pan').click();
});

test('a stroke on a volume slice survives plane switches and "Segment all", and exports in that slice only', async () => {
  // The volume is nibabel's block from inside a brain: the three-plane test below needs the
  // model to label some of it, so these run under the plain-volume card (see plainVolumeModel).
  await ctx.app.switchModel(plainVolumeModel(), PLAIN_CARD_NAME);
  await ctx.app.dropFiles([VOLUME]);
  await ctx.page.locator('[data-testid=item][data-name="anatomical.nii"][data-state=done]').waitFor();
  await ctx.app.waitForState('done');
  await ctx.page.waitForFunction(() => document.querySelector('[data-testid=slice-index]')?.textContent === '13 / 25');

  // The model's own label map first: "Segment all" (the card fuses three planes), then export.
  await byId('segment-all').click();
  await ctx.page.waitForFunction(
    () => document.querySelector('[data-testid=volume-progress]')?.textContent === '99 / 99',
    null,
    { timeout: 240_000, polling: 100 },
  );
  const exportNifti = async () => {
    const [download] = await Promise.all([ctx.page.waitForEvent('download'), byId('export-nifti').click()]);
    return readNifti(fs.readFileSync(await download.path()));
  };
  const model = await exportNifti();

  await byId('tool-brush').click();
  await setBrushSize(2);
  await stroke([[4, 20], [28, 20]]);
  await byId('edited-badge').waitFor();
  // Another plane and back: the slice is still marked.
  await byId('plane-select').selectOption('coronal');
  await ctx.page.waitForFunction(() => document.querySelector('[data-testid=slice-index]')?.textContent === '21 / 41');
  await byId('plane-select').selectOption('axial');
  await ctx.page.waitForFunction(() => document.querySelector('[data-testid=slice-index]')?.textContent === '13 / 25');
  await byId('edited-badge').waitFor();

  const edited = await exportNifti();
  const changed = differences(model.data, edited.data);
  assert.ok(changed.length >= 20, `${changed.length} voxels changed`);
  const [nx, ny] = model.dims;
  for (const v of changed) {
    assert.equal(edited.data[v], 1, 'painted as brain');
    assert.equal(Math.floor(v / (nx * ny)), 12, `voxel ${v} lies in axial slice 13`);
  }

  await ctx.page.keyboard.press('Control+z');
  assert.deepEqual(differences(model.data, (await exportNifti()).data), [], 'undo');
  await ctx.page.keyboard.press('Control+Shift+z');
  assert.deepEqual(differences(edited.data, (await exportNifti()).data), [], 'redo');
  await byId('discard-edits').click();
  assert.deepEqual(differences(model.data, (await exportNifti()).data), [], 'discarded');
  await byId('tool-pan').click();
});

test('the three-plane view moves with a click and shows the mask in each plane', async () => {
  // anatomical.nii is still selected, its label map made, axial slice 13 shown. Axial slices:
  // 41 rows (anterior → posterior, j), 33 columns (right → left, i); coronal: 25 rows
  // (superior → inferior, k), 33 columns (i); sagittal slice s is i = 32 - s.
  await byId('three-planes').check();
  const pane = (plane) => ctx.page.locator(`[data-testid=plane-view][data-plane=${plane}]`);
  await pane('sagittal').waitFor();
  const indices = async () =>
    Promise.all(['axial', 'coronal', 'sagittal'].map(async (p) => Number(await pane(p).getAttribute('data-index'))));
  // The crosshair starts at the centre of the single viewer's slice: axial 12, row 20, column 16
  // (i 16, j 20): coronal slice j = 20, sagittal slice 32 - i = 16.
  assert.deepEqual(await indices(), [12, 20, 16]);

  const click = async (plane, x, y) => {
    await pane(plane).scrollIntoViewIfNeeded();
    const [sx, sy] = await pane(plane).evaluate((canvas, [x, y]) => {
      const r = canvas.getBoundingClientRect();
      return [r.left + ((x + 0.5) / canvas.width) * r.width, r.top + ((y + 0.5) / canvas.height) * r.height];
    }, [x, y]);
    await ctx.page.mouse.click(sx, sy);
  };
  const indexIs = (plane, index) =>
    ctx.page.waitForFunction(([p, i]) => document.querySelector(`[data-plane=${p}]`)?.dataset.index === String(i), [plane, index]);

  // To a voxel inside the labelled region (every neighbour labelled too, so each pane shows the
  // class colour beside the crosshair's lines, which cover the point's own row and column):
  // first the coronal pane at (i, row 24 - k) moves the axial and sagittal slices, then the
  // axial pane at (i, row 40 - j) the coronal one.
  const [download] = await Promise.all([ctx.page.waitForEvent('download'), byId('export-nifti').click()]);
  const labels = readNifti(fs.readFileSync(await download.path()));
  const [nx, ny, nz] = labels.dims;
  const at = (i, j, k) => labels.data[i + nx * (j + ny * k)];
  const voxel = (v) => [v % nx, Math.floor(v / nx) % ny, Math.floor(v / (nx * ny))];
  const interior = (v) => {
    const [i, j, k] = voxel(v);
    if (i < 1 || j < 1 || k < 1 || i > nx - 2 || j > ny - 2 || k > nz - 2) return false;
    for (const di of [-1, 0, 1]) for (const dj of [-1, 0, 1]) for (const dk of [-1, 0, 1]) {
      if (!at(i + di, j + dj, k + dk)) return false;
    }
    return true;
  };
  const v = labels.data.findIndex((l, v) => l > 0 && interior(v));
  assert.ok(v >= 0, 'the label map has a voxel with all its neighbours labelled');
  const [i, j, k] = voxel(v);
  await click('coronal', i, 24 - k);
  await indexIs('axial', k);
  assert.deepEqual(await indices(), [k, 20, 32 - i]);
  await ctx.page.waitForFunction((t) => document.querySelector('[data-testid=slice-index]')?.textContent === t, `${k + 1} / 25`);
  await click('axial', i, 40 - j);
  await indexIs('coronal', j);
  assert.deepEqual(await indices(), [k, j, 32 - i]);

  // Each pane shows the class colour (not grey, not the crosshair's amber).
  for (const plane of ['axial', 'coronal', 'sagittal']) {
    await ctx.page.waitForFunction((plane) => {
      const canvas = document.querySelector(`[data-plane=${plane}]`);
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
        if ((r !== g || g !== b) && !(r === 255 && g === 196 && b === 0)) return true;
      }
      return false;
    }, plane, { timeout: 20_000, polling: 100 });
  }

  // A hand edit shows in the other panes: a dot painted in the single viewer (axial k) at
  // (5, 5), radius 1, covers i 4–7, j 34–36 of slice k, which the model leaves unlabelled.
  for (const [pi, pj] of [[4, 35], [6, 36]]) assert.equal(at(pi, pj, k), 0, `voxel ${pi},${pj},${k} unlabelled`);
  await byId('tool-brush').click();
  await setBrushSize(1);
  await stroke([[5, 5], [6, 5]]);
  await byId('tool-pan').click();
  // A click on the axial pane there puts the crosshair at i 5, j 35; one on the coronal pane at
  // column 6 and another axial slice k2 moves it to (6, 35, k2), so that neither pane's crosshair
  // lines cover row 24 - k, where the dot shows: coronal column i = 4 (j 35), sagittal column
  // 40 - j = 4 (j 36, i 6).
  await click('axial', 5, 5);
  await indexIs('coronal', 35);
  const k2 = k >= 2 ? k - 2 : k + 2;
  await click('coronal', 6, 24 - k2);
  await indexIs('axial', k2);
  assert.deepEqual(await indices(), [k2, 35, 26]);
  const colourAt = (plane, x, y) =>
    ctx.page.waitForFunction(([plane, x, y]) => {
      const canvas = document.querySelector(`[data-plane=${plane}]`);
      const [r, g, b] = canvas.getContext('2d').getImageData(x, y, 1, 1).data;
      return (r !== g || g !== b) && !(r === 255 && g === 196 && b === 0);
    }, [plane, x, y], { timeout: 10_000, polling: 100 });
  await colourAt('coronal', 4, 24 - k);
  await colourAt('sagittal', 4, 24 - k);
  await byId('discard-edits').click();

  await byId('three-planes').uncheck();
  assert.equal(await byId('plane-views').count(), 0, 'the single-plane view alone again');
  await ctx.app.switchModel(defaultModelPath(), 'Brain extraction (T1 MRI)');
});


test('a hand-painted DICOM image exports as a semi-automatic DICOM SEG on its source', async () => {
  // pydicom's MR_small.dcm (64×64): the brain model labels nothing in it, so the SEG holds just
  // what is painted here; highdicom reads it back on the source image, pixel for pixel against
  // the exported mask PNG.
  const source = path.join(ROOT, 'data/fixtures/pydicom/MR_small.dcm');
  await ctx.app.dropFiles([source]);
  await ctx.page.locator('[data-testid=item][data-name="MR_small.dcm"][data-state=done]').waitFor();
  await ctx.page.locator('[data-testid=item][data-name="MR_small.dcm"]').click();
  await byId('tool-brush').click();
  await setBrushSize(3);
  await stroke([[20, 30], [40, 30]]);
  await byId('tool-pan').click();
  const mask = await exportedMask();
  const painted = mask.data.filter((v) => v === 1).length;
  assert.ok(painted > 60, `${painted} pixels painted`);
  const [download] = await Promise.all([ctx.page.waitForEvent('download'), byId('export-seg').click()]);
  assert.equal(download.suggestedFilename(), 'MR_small.seg.dcm');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seg-'));
  fs.writeFileSync(path.join(dir, 'MR_small.mask.png'), mask.bytes);
  const report = JSON.parse(
    execFileSync(path.join(ROOT, '.venv/bin/python'), [
      path.join(ROOT, 'scripts/checks/read_seg.py'),
      await download.path(),
      path.join(dir, 'MR_small.mask.png'),
      source,
    ]).toString(),
  );
  assert.deepEqual(
    report.segments.map((s) => [s.label, s.type, s.algorithm_type]),
    [['brain', 'Brain', 'SEMIAUTOMATIC']],
  );
  assert.deepEqual(report.per_segment['1'], { seg_pixels: painted, values: { 1: painted } });
  assert.equal(report.labelled_not_in_a_segment, 0);
});
