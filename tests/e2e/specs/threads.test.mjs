// wasm threads on the CPU path (issue 14): on a cross-origin isolated page the engine's worker
// starts the threaded module (crates/engine-threads) with a thread per core, says so, and its
// masks are the CLI's; when that module cannot start, the engine says why and runs on its own
// thread, and the page loses nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { openApp, defaultModelPath, SAMPLES } from '../lib/setup.mjs';
import { cliMask } from '../lib/cli.mjs';
import { maskAgreement } from '../lib/app.mjs';

const SAMPLE = path.join(SAMPLES, 't1_head_axial.png');

async function segmentsAsTheCli(ctx) {
  await ctx.app.dropFiles([SAMPLE]);
  await ctx.app.waitForState('done');
  const { fraction } = maskAgreement((await ctx.app.exportMask()).bytes, cliMask(defaultModelPath(), SAMPLE));
  assert.ok(fraction >= 0.999, `only ${(fraction * 100).toFixed(3)} % agree with the CLI`);
}

test('an isolated page runs the CPU path on a thread per core, with the CLI\'s mask', async () => {
  const ctx = await openApp({ webgpu: false, isolated: true, serviceWorkers: 'block' });
  try {
    assert.equal(await ctx.page.evaluate(() => crossOriginIsolated), true);
    const cores = await ctx.page.evaluate(() => navigator.hardwareConcurrency);
    const threads = ctx.page.locator('[data-testid=engine-threads]');
    const text = await threads.textContent();
    if (cores > 1) {
      assert.equal(await threads.getAttribute('data-threads'), String(cores), text);
      assert.match(text, new RegExp(`${cores} threads, in a Web Worker, .*wasm threads: the page is cross-origin isolated`));
    } else {
      assert.match(text, /1 thread, .*one core/);
    }
    assert.equal(await threads.getAttribute('data-home'), 'worker', text);
    await segmentsAsTheCli(ctx);
  } finally {
    await ctx.close();
  }
});

test('without the threaded module the engine says why, stays on one thread and still segments', async () => {
  const ctx = await openApp({
    webgpu: false,
    isolated: true,
    serviceWorkers: 'block',
    route: (page) => page.route('**/threads/**', (route) => route.fulfill({ status: 404, body: 'gone' })),
  });
  try {
    const threads = ctx.page.locator('[data-testid=engine-threads]');
    const text = await threads.textContent();
    assert.equal(await threads.getAttribute('data-threads'), '1', text);
    assert.match(text, /1 thread, in a Web Worker, .*the thread pool did not start/);
    await segmentsAsTheCli(ctx);
  } finally {
    await ctx.close();
  }
});
