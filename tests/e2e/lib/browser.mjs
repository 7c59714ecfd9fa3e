// Launching Debian's Chromium through playwright-core (never a downloaded browser).
// WebGPU on a machine without a GPU comes from Chromium's bundled SwiftShader, which needs
// --enable-unsafe-webgpu; leaving it out (and disabling the feature) gives the CPU fallback.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const COMMON = [
  '--headless=new',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Launches a fresh browser (own profile dir); `webgpu: false` turns WebGPU off;
 * `serviceWorkers: 'block'` keeps the app's offline worker out (requests a spec rewrites with
 * `page.route` would otherwise be answered from its store). */
export async function launch({ webgpu = true, serviceWorkers = 'allow' } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-web-e2e-'));
  const args = [
    ...COMMON,
    ...(webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-features=WebGPU,WebGPUService']),
  ];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    ignoreDefaultArgs: ['--headless'],
    acceptDownloads: true,
    serviceWorkers,
    viewport: { width: 1280, height: 900 },
  });
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}
