// Shared fixture for the specs: serve dist/ under a subpath, open the app in a fresh
// browser, wait for the default model.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { serve } from './server.mjs';
import { launch } from './browser.mjs';
import { AppPage } from './app.mjs';
import { ROOT } from './cli.mjs';

export { ROOT };
export const DIST = process.env.DIST ?? path.join(ROOT, 'dist');
export const SAMPLES = path.join(ROOT, 'assets/samples');
/** Hand-set model whose masks have structure (see fixtures/make_threshold_model.mjs). */
export const THRESHOLD_MODEL = path.join(ROOT, 'tests/e2e/fixtures/threshold.unet.safetensors');

/** A bundled model's file (the default one without `id`), as listed in the manifest. */
export function defaultModelPath(id) {
  const manifest = JSON.parse(fs.readFileSync(path.join(DIST, 'assets/models/manifest.json'), 'utf8'));
  const entry = manifest.models.find((m) => m.id === (id ?? manifest.default)) ?? manifest.models[0];
  return path.join(DIST, 'assets/models', entry.file);
}

/** nibabel's `anatomical.nii` (33×41×25 int16 head, big-endian, 2 mm, sform: i → left,
 * j → anterior, k → superior), fetched with the other test files if missing; its path. */
export function anatomicalVolume() {
  const file = path.join(ROOT, 'data/fixtures/nibabel/anatomical.nii');
  if (!fs.existsSync(file)) {
    execFileSync(path.join(ROOT, 'scripts/data/fetch_fixtures.sh'), { stdio: 'inherit' });
  }
  return file;
}

/** The small untrained model: SwiftShader's WebGPU is far too slow for the trained one. */
export const PLACEHOLDER = 'untrained-placeholder';

/** Starts server + browser + page; `query` is appended to the app URL; `serviceWorkers` as in
 * `launch`; `isolated` serves COOP and COEP; `route(page)` may set up request routing before
 * the page opens. */
export async function openApp({ webgpu = true, query = '', serviceWorkers = 'allow', isolated = false, route } = {}) {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html is missing: run \`trunk build --release\` first (scripts/e2e.sh does)`);
  }
  const server = await serve(DIST, undefined, { isolated });
  const browser = await launch({ webgpu, serviceWorkers });
  const page = await browser.context.newPage();
  await route?.(page);
  const app = new AppPage(page);
  await app.goto(server.url + query);
  await app.waitUntilReady();
  return {
    app,
    page,
    server,
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}
