// The native reference: `unet predict` for the same model and image.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '../../..');
export const CLI = process.env.UNET_CLI ?? path.join(ROOT, 'target/debug/unet');

/** The CLI's mask PNG bytes for `model` and `image` (paths). */
export function cliMask(model, image) {
  if (!fs.existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build it with \`cargo build -p unet-cli\` (scripts/e2e.sh does)`);
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-cli-'));
  execFileSync(CLI, ['predict', '--model', model, image, '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stem = path.basename(image).replace(/\.[^.]*$/, '');
  const bytes = fs.readFileSync(path.join(out, `${stem}.mask.png`));
  fs.rmSync(out, { recursive: true, force: true });
  return bytes;
}

/** The CLI's label map (`STEM.mask.nii.gz` bytes) for `model` and a NIfTI `volume` (paths). */
export function cliVolumeMask(model, volume, extra = []) {
  if (!fs.existsSync(CLI)) {
    throw new Error(`${CLI} is missing: build it with \`cargo build -p unet-cli\` (scripts/e2e.sh does)`);
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-cli-'));
  execFileSync(CLI, ['predict', '--model', model, volume, '--out', out, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stem = path.basename(volume).replace(/\.nii(\.gz)?$/, '');
  const bytes = fs.readFileSync(path.join(out, `${stem}.mask.nii.gz`));
  fs.rmSync(out, { recursive: true, force: true });
  return bytes;
}

// nibabel's 2 mm block from inside a brain (anatomical.nii, and the DICOM series made from it) is
// outside the shipped brain card's input policy (a whole head): without skull and scalp around it
// the model is unsure of it (of its 33,825 voxels, about 4,400 have a mean probability above 0.3
// and only a handful above 0.5), so the card's threshold (0.65) and 3 mm opening leave the label
// map empty.
// Specs that need a region of brain in that block run the same weights under a card with a low
// threshold (mean probability above 0.3) and no opening, made by `unet convert --card`.
export const PLAIN_CARD_NAME = 'Brain extraction, volumes at 0.3';

/** Path of the shipped brain weights under the plain-volume card (a fresh temporary file). */
export function plainVolumeModel() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plain-model-'));
  const card = JSON.parse(fs.readFileSync(path.join(ROOT, 'assets/models/brain-extraction.card.json'), 'utf8'));
  card.name = PLAIN_CARD_NAME;
  card.threshold = 0.3;
  card.postprocess = ['largest_component', 'fill_holes'];
  const cardPath = path.join(dir, 'card.json');
  fs.writeFileSync(cardPath, JSON.stringify(card));
  const model = path.join(dir, 'brain-plain.unet.safetensors');
  const weights = path.join(ROOT, 'assets/models/brain-extraction.unet.safetensors');
  execFileSync(CLI, ['convert', weights, '--card', cardPath, '-o', model], { stdio: ['ignore', 'ignore', 'pipe'] });
  return model;
}
