// Times onnxruntime-web the way bench_forward times unet-web: one warm-up, then N timed runs
// of session.run on a fixed input, each with its output on the CPU (ORT downloads GPU outputs
// to the CPU by default, as unet-web reads its logits back).
import { fixedNoise } from './noise.mjs';

/** Bundles per execution provider: the WebGPU build also runs WASM, but the plain WASM build
 * is what a CPU-only page would ship. */
const BUILDS = { webgpu: '/ort/ort.webgpu.min.mjs', wasm: '/ort/ort.wasm.min.mjs' };

window.runOrt = async ({ ep, model, height, width, runs, threads }) => {
  const ort = await import(BUILDS[ep]);
  ort.env.wasm.wasmPaths = '/ort/';
  const defaultThreads = ort.env.wasm.numThreads;
  if (threads !== undefined) ort.env.wasm.numThreads = threads;
  let start = performance.now();
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
  });
  const loadMs = performance.now() - start;
  const input = new ort.Tensor('float32', fixedNoise(height * width), [1, 1, height, width]);
  const feeds = { [session.inputNames[0]]: input };
  const once = async () => {
    const out = await session.run(feeds);
    const logits = out[session.outputNames[0]];
    // With the default output location this is already on the CPU; getData() makes sure.
    await logits.getData();
  };
  start = performance.now();
  await once();
  const warmupMs = performance.now() - start;
  const timesMs = [];
  for (let i = 0; i < runs; i++) {
    start = performance.now();
    await once();
    timesMs.push(performance.now() - start);
  }
  await session.release();
  return {
    ep,
    version: ort.env.versions?.web ?? ort.version ?? '?',
    threads: ort.env.wasm.numThreads,
    defaultThreads,
    crossOriginIsolated: self.crossOriginIsolated,
    loadMs,
    warmupMs,
    timesMs,
  };
};
window.ortPageReady = true;
