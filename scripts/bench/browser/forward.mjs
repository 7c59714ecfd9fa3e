// Forward-pass timing in the browser: unet-web through its `bench_forward` export (the app's own
// inference path, see src/engine/bench.rs) and onnxruntime-web on the ONNX export of the same
// weights, on the same fixed input, in the same Chromium session.
import { log, openApp, summarise, withLimit } from './common.mjs';

/**
 * unet-web on `backend` ("webgpu" | "cpu"). The app page is opened with ?backend=cpu and its
 * small placeholder model, so the app itself leaves the WebGPU runtime (opened once per page)
 * to the benchmark and starts quickly.
 */
export async function timeUnet(context, { appUrl, modelUrl, height, width, runs, backend, limitS }) {
  log(`unet-web ${backend} ${height}x${width}, ${runs} runs`);
  const { page, app } = await openApp(context, appUrl, '?backend=cpu&model=untrained-placeholder', limitS * 1000);
  try {
    const result = await withLimit(
      page.evaluate(async (a) => {
        const bytes = new Uint8Array(await (await fetch(a.modelUrl)).arrayBuffer());
        const result = await window.wasmBindings.bench_forward(bytes, a.height, a.width, a.runs, a.backend);
        // A hidden tab's timers are throttled, which would slow the CPU path's yields.
        return { ...result, visibility: document.visibilityState };
      }, { modelUrl, height, width, runs, backend }),
      limitS,
      `unet-web ${backend}`,
    );
    return { ok: true, ...result, ...summarise(result.times_ms), consoleErrors: app.consoleErrors };
  } catch (e) {
    return { ok: false, error: firstLine(e), consoleErrors: app.consoleErrors };
  } finally {
    await page.close().catch(() => {});
  }
}

/**
 * unet-web's CPU path where the app runs it: in a fresh engine worker (the app's own
 * engine-worker.js and wasm, started as the page starts it), on the threads the engine takes
 * there: one on a plain page, one per core (wasm threads) on a cross-origin isolated one. The
 * worker answers a `bench` message with `time_forward`'s report (src/engine/worker/serve.rs).
 */
export async function timeUnetWorker(context, { appUrl, modelUrl, height, width, runs, limitS }) {
  log(`unet-web cpu in its engine worker ${height}x${width}, ${runs} runs`);
  const { page, app } = await openApp(context, appUrl, '?backend=cpu&model=untrained-placeholder', limitS * 1000);
  try {
    const result = await withLimit(
      page.evaluate(async (a) => {
        const href = (selector) => new URL(document.querySelector(selector).getAttribute('href'), document.baseURI).href;
        const worker = new Worker('engine-worker.js', { type: 'module', name: 'benchmark engine' });
        const next = (kind) => new Promise((resolve, reject) => {
          worker.addEventListener('message', function on({ data }) {
            if (data.kind === 'failed' || data.kind === 'panic') reject(new Error(data.error));
            if (data.kind !== kind) return;
            worker.removeEventListener('message', on);
            resolve(data);
          });
        });
        try {
          const hello = next('hello');
          worker.postMessage({ js: href("link[rel=modulepreload][href$='.js']"), module: href("link[rel=preload][href$='.wasm']") });
          await hello;
          const bytes = new Uint8Array(await (await fetch(a.modelUrl)).arrayBuffer());
          const answer = next('benched');
          worker.postMessage({ kind: 'bench', id: 1, bytes, height: a.height, width: a.width, runs: a.runs });
          const reply = await answer;
          if (reply.error) throw new Error(reply.error);
          return { ...JSON.parse(reply.report), crossOriginIsolated: self.crossOriginIsolated };
        } finally {
          worker.terminate();
        }
      }, { modelUrl, height, width, runs }),
      limitS,
      'unet-web cpu in its worker',
    );
    return { ok: true, ...result, ...summarise(result.times_ms), consoleErrors: app.consoleErrors };
  } catch (e) {
    return { ok: false, error: firstLine(e), consoleErrors: app.consoleErrors };
  } finally {
    await page.close().catch(() => {});
  }
}

/** onnxruntime-web with execution provider `ep` ("webgpu" | "wasm") on the ONNX file at `onnxUrl`. */
export async function timeOrt(context, { pageUrl, onnxUrl, height, width, runs, ep, threads, limitS }) {
  log(`onnxruntime-web ${ep} ${height}x${width}, ${runs} runs`);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  try {
    await page.goto(pageUrl);
    await page.waitForFunction(() => window.ortPageReady === true);
    const result = await withLimit(
      page.evaluate(async (a) => ({ ...(await window.runOrt(a)), visibility: document.visibilityState }),
        { ep, model: onnxUrl, height, width, runs, threads }),
      limitS,
      `onnxruntime-web ${ep}`,
    );
    return { ok: true, ...result, ...summarise(result.timesMs), consoleErrors: errors };
  } catch (e) {
    return { ok: false, error: firstLine(e), consoleErrors: errors };
  } finally {
    await page.close().catch(() => {});
  }
}

function firstLine(e) {
  return String(e?.message ?? e).split('\n')[0];
}
