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
