// The browser benchmark (scripts/bench/browser.sh runs this after building the site and
// exporting the ONNX models): forward-pass timing of unet-web against onnxruntime-web on
// WebGPU and on the CPU, cold start, download size and the largest image. Writes one JSON
// file; report.mjs turns it into BENCHMARKS.md's "Browser" results.
//
// Settings come from the environment (browser.sh documents and passes them):
//   BENCH_DIST, BENCH_WORK, BENCH_MODEL, BENCH_ONNX_CPU, BENCH_ONNX_GPU, BENCH_CPU_SIZE,
//   BENCH_GPU_SIZE, BENCH_CPU_RUNS, BENCH_GPU_RUNS, BENCH_LARGEST, BENCH_LARGEST_LIMIT_S,
//   BENCH_LIMIT_S, BENCH_PARTS (comma list of forward,cold,size,largest), BENCH_OUT.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../../../tests/e2e/lib/browser.mjs';
import { serveMounts } from './server.mjs';
import { log } from './common.mjs';
import { timeOrt, timeUnet, timeUnetWorker } from './forward.mjs';
import { coldStart, squareSlice } from './coldstart.mjs';
import { syntheticPng, tryImage } from './largest.mjs';
import { downloadSizes } from './download.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const env = (key, fallback) => process.env[key] ?? fallback;
const size = (text) => {
  const [h, w] = text.toLowerCase().split('x').map(Number);
  if (!(h > 0 && w > 0)) throw new Error(`bad size ${text}: use HxW`);
  return { height: h, width: w, label: `${h}x${w}` };
};

const DIST = path.resolve(env('BENCH_DIST', path.join(ROOT, 'dist')));
const WORK = path.resolve(env('BENCH_WORK', path.join(ROOT, 'target/bench-browser')));
const MODEL = path.resolve(env('BENCH_MODEL', path.join(ROOT, 'assets/models/brain-extraction.unet.safetensors')));
const CPU_SIZE = size(env('BENCH_CPU_SIZE', '256x256'));
const GPU_SIZE = size(env('BENCH_GPU_SIZE', '128x128'));
const CPU_RUNS = Number(env('BENCH_CPU_RUNS', '10'));
const GPU_RUNS = Number(env('BENCH_GPU_RUNS', '3'));
const LIMIT_S = Number(env('BENCH_LIMIT_S', '600'));
const LARGEST = env('BENCH_LARGEST', '1024,2048,4096,8192').split(',').filter(Boolean).map(Number);
const LARGEST_LIMIT_S = Number(env('BENCH_LARGEST_LIMIT_S', '600'));
const PARTS = new Set(env('BENCH_PARTS', 'forward,cold,size,largest').split(','));
const OUT = path.resolve(env('BENCH_OUT', path.join(WORK, 'results.json')));
const ONNX = {
  cpu: path.resolve(env('BENCH_ONNX_CPU', path.join(WORK, `onnx-${CPU_SIZE.label}/model.onnx`))),
  gpu: path.resolve(env('BENCH_ONNX_GPU', path.join(WORK, `onnx-${GPU_SIZE.label}/model.onnx`))),
};

const MOUNTS = {
  '/app/': DIST,
  '/ort/': path.join(ROOT, 'tests/e2e/node_modules/onnxruntime-web/dist'),
  '/bench/': path.join(HERE, 'page'),
  '/model/': path.dirname(MODEL),
  '/onnx-cpu/': path.dirname(ONNX.cpu),
  '/onnx-gpu/': path.dirname(ONNX.gpu),
};
const server = await serveMounts(MOUNTS);
const appUrl = `${server.origin}/app/`;
const results = {
  date: new Date().toISOString(),
  model: path.relative(ROOT, MODEL),
  settings: { cpuSize: CPU_SIZE.label, gpuSize: GPU_SIZE.label, cpuRuns: CPU_RUNS, gpuRuns: GPU_RUNS, largest: LARGEST, largestLimitS: LARGEST_LIMIT_S },
};

try {
  if (PARTS.has('size')) {
    log('download sizes');
    results.download = downloadSizes(DIST);
  }
  if (PARTS.has('forward')) {
    // One Chromium session with WebGPU on for all four: each runtime in its own tab. No
    // service workers: the app's would add COOP and COEP to its pages after the first, making
    // the plain (not isolated) runs isolated.
    const browser = await launch({ webgpu: true, serviceWorkers: 'block' });
    try {
      const page = await browser.context.newPage();
      results.userAgent = await page.evaluate(() => navigator.userAgent);
      results.hardwareConcurrency = await page.evaluate(() => navigator.hardwareConcurrency);
      await page.close();
      const modelUrl = `/model/${encodeURIComponent(path.basename(MODEL))}`;
      const cpu = { ...CPU_SIZE, runs: CPU_RUNS, limitS: LIMIT_S };
      const gpu = { ...GPU_SIZE, runs: GPU_RUNS, limitS: LIMIT_S };
      const ortPage = `${server.origin}/bench/ort.html`;
      results.forward = {
        unetCpu: await timeUnet(browser.context, { appUrl, modelUrl, backend: 'cpu', ...cpu }),
        unetCpuWorker: await timeUnetWorker(browser.context, { appUrl, modelUrl, ...cpu }),
        ortWasm: await timeOrt(browser.context, { pageUrl: ortPage, onnxUrl: '/onnx-cpu/model.onnx', ep: 'wasm', threads: 1, ...cpu }),
        unetWebgpu: await timeUnet(browser.context, { appUrl, modelUrl, backend: 'webgpu', ...gpu }),
        ortWebgpu: await timeOrt(browser.context, { pageUrl: ortPage, onnxUrl: '/onnx-gpu/model.onnx', ep: 'webgpu', threads: 1, ...gpu }),
      };
      // Both pages cross-origin isolated, ORT at navigator.hardwareConcurrency threads: the
      // multi-core comparison (unet-web in its engine worker, on the threads it takes there).
      const isolatedServer = await serveMounts(MOUNTS, { isolated: true });
      try {
        const origin = isolatedServer.origin;
        results.forward.unetCpuIsolated = await timeUnetWorker(browser.context, { appUrl: `${origin}/app/`, modelUrl, ...cpu });
        results.forward.ortWasmThreads = await timeOrt(browser.context, {
          pageUrl: `${origin}/bench/ort.html`, onnxUrl: '/onnx-cpu/model.onnx', ep: 'wasm', threads: results.hardwareConcurrency, ...cpu,
        });
      } finally {
        await isolatedServer.close();
      }
      for (const [name, r] of Object.entries(results.forward)) {
        log(`  ${name}: ${r.ok ? `median ${r.median_ms.toFixed(1)} ms` : `failed: ${r.error}`}`);
      }
    } finally {
      await browser.close();
    }
  }
  if (PARTS.has('cold')) {
    const slice = squareSlice(path.join(ROOT, 'assets/samples/t1_head_axial.png'), 256, path.join(WORK, 't1_head_axial_256.png'));
    results.cold = {
      slice: 'assets/samples/t1_head_axial.png, centre 256x256 (zero-padded to 256 columns)',
      cpu: await coldStart({ appUrl, slice, webgpu: false, limitS: LIMIT_S }),
      webgpu: await coldStart({ appUrl, slice, webgpu: true, limitS: LIMIT_S }),
    };
    for (const [name, r] of Object.entries(results.cold).filter(([k]) => k !== 'slice')) {
      log(`  ${name}: ${r.ok ? `mask after ${r.maskMs} ms (${r.backend})` : `failed: ${r.error}`}`);
    }
  }
  if (PARTS.has('largest')) {
    results.largest = [];
    for (const side of LARGEST) {
      const file = syntheticPng(side, path.join(WORK, `grey-${side}.png`));
      const r = await tryImage({ appUrl, file, side, limitS: LARGEST_LIMIT_S });
      log(`  ${side}x${side}: ${r.outcome} (${r.detail})`);
      results.largest.push(r);
    }
  }
} finally {
  await server.close();
}

fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify(results, null, 2));
log(`wrote ${path.relative(ROOT, OUT)}`);
