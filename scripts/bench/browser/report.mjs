// Turns run.mjs's results.json into the "Browser: latest run" part of BENCHMARKS.md, between
//   <!-- browser-bench:begin ... --> and <!-- browser-bench:end -->
// Usage: node report.mjs RESULTS.json BENCHMARKS.md   (environment: BENCH_COMMIT,
// BENCH_CHROMIUM, BENCH_ORT_VERSION, BENCH_GFLOP_CPU, BENCH_GFLOP_GPU, BENCH_LOAD_BEFORE, BENCH_LOAD_AFTER)
import fs from 'node:fs';

const GOAL_RATIO = 0.8;
const GOAL_BYTES = 8e6;
const BEGIN = '<!-- browser-bench:begin (scripts/bench/browser.sh writes this part; edits are lost) -->';
const END = '<!-- browser-bench:end -->';

const [resultsPath, benchmarksPath] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(resultsPath, 'utf8'));
const env = process.env;

const ms = (v) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
const mb = (bytes) => (bytes / 1e6).toFixed(2);
const gflops = (gflop, medianMs) => (gflop && medianMs ? (gflop / (medianMs / 1e3)).toFixed(2) : '');

/** "N threads" as the engine reported them for a worker run. */
function threadsOf(x) {
  const n = x?.threads?.count;
  return n === undefined ? 'threads unknown' : `${n} thread${n === 1 ? '' : 's'}`;
}

function forwardSection() {
  const f = r.forward;
  if (!f) return [];
  const gflop = { cpu: Number(env.BENCH_GFLOP_CPU) || 0, gpu: Number(env.BENCH_GFLOP_GPU) || 0 };
  const rows = [
    ['CPU', r.settings.cpuSize, 'unet-web (folded network, 1 thread, SIMD128, on the page\'s thread)', f.unetCpu, gflop.cpu],
    ['CPU', r.settings.cpuSize, `unet-web in its engine worker (${threadsOf(f.unetCpuWorker)})`, f.unetCpuWorker, gflop.cpu],
    ['CPU', r.settings.cpuSize, `onnxruntime-web WASM EP (numThreads ${f.ortWasm.threads ?? 1})`, f.ortWasm, gflop.cpu],
    ['CPU, isolated', r.settings.cpuSize, `unet-web in its engine worker (${threadsOf(f.unetCpuIsolated)})`, f.unetCpuIsolated, gflop.cpu],
    ['CPU, isolated', r.settings.cpuSize, `onnxruntime-web WASM EP (numThreads ${f.ortWasmThreads?.threads ?? '?'})`, f.ortWasmThreads, gflop.cpu],
    ['WebGPU', r.settings.gpuSize, 'unet-web (burn Wgpu)', f.unetWebgpu, gflop.gpu],
    ['WebGPU', r.settings.gpuSize, 'onnxruntime-web WebGPU EP', f.ortWebgpu, gflop.gpu],
  ].filter(([, , , x]) => x !== undefined);
  const out = [
    '| backend | size | runtime | median ms | min ms | max ms | runs | warm-up ms | GFLOP/s |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [cls, size, name, x, g] of rows) {
    if (x.ok) {
      const warm = x.warmup_ms ?? x.warmupMs;
      out.push(`| ${cls} | ${size} | ${name} | ${ms(x.median_ms)} | ${ms(x.min_ms)} | ${ms(x.max_ms)} | ${x.runs} | ${ms(warm)} | ${gflops(g, x.median_ms)} |`);
    } else {
      out.push(`| ${cls} | ${size} | ${name} | **failed** | | | | | |`);
    }
  }
  out.push('');
  const failures = rows.filter(([, , , x]) => !x.ok);
  for (const [cls, , name, x] of failures) {
    out.push(`- ${cls} ${name} failed: ${x.error}${x.consoleErrors?.length ? ` (console: ${x.consoleErrors.slice(0, 3).join(' | ').slice(0, 400)})` : ''}`);
  }
  if (failures.length) out.push('');
  out.push('| comparison | unet / ort (median) | goal | met? |', '|---|---:|---:|---|');
  const pairs = [
    ['CPU, 1 thread: unet-web (folded, page thread) vs ORT WASM EP', f.unetCpu, f.ortWasm],
    ['CPU, 1 thread: unet-web in its engine worker (where the app runs it) vs ORT WASM EP', f.unetCpuWorker, f.ortWasm],
    [`CPU, both pages isolated, hardwareConcurrency (${r.hardwareConcurrency ?? '?'}) threads: unet-web vs ORT WASM EP`, f.unetCpuIsolated, f.ortWasmThreads],
    ['WebGPU: unet-web vs ORT WebGPU EP', f.unetWebgpu, f.ortWebgpu],
  ].filter(([, a, b]) => a !== undefined && b !== undefined);
  for (const [label, a, b] of pairs) {
    if (a.ok && b.ok) {
      const ratio = a.median_ms / b.median_ms;
      out.push(`| ${label} | **${ratio.toFixed(2)}** | ≤ ${GOAL_RATIO} | ${ratio <= GOAL_RATIO ? 'yes' : '**no**'} |`);
    } else {
      out.push(`| ${label} | n/a (a run failed) | ≤ ${GOAL_RATIO} | not measured |`);
    }
  }
  out.push('');
  if (f.unetWebgpu.ok) out.push(`WebGPU adapter as the app reports it: ${f.unetWebgpu.adapter || '(none given)'}.`);
  if (f.ortWasm.ok) {
    out.push(`ORT WASM EP: numThreads ${f.ortWasm.threads} (set); page cross-origin isolated: ${f.ortWasm.crossOriginIsolated} (without isolation ORT cannot use threads, so its default would also be 1 here).`);
  }
  if (f.ortWasmThreads?.ok) {
    out.push(`Isolated pair (both pages served with COOP and COEP): ORT WASM EP numThreads ${f.ortWasmThreads.threads} (set; its default there: ${f.ortWasmThreads.defaultThreads}), page cross-origin isolated: ${f.ortWasmThreads.crossOriginIsolated}; unet-web's engine worker: ${threadsOf(f.unetCpuIsolated)} (${f.unetCpuIsolated?.threads?.why ?? 'no reason given'}).`);
  }
  if (f.unetCpu.ok) out.push(`unet-web model load (parse + build) ${ms(f.unetCpu.load_ms)} ms on the CPU; ORT session creation ${f.ortWasm.ok ? ms(f.ortWasm.loadMs) : '?'} ms.`);
  out.push('');
  return out;
}

function coldSection() {
  const c = r.cold;
  if (!c) return [];
  const out = [`Cold start (fresh browser profile, no HTTP cache; ${c.slice}):`, '',
    '| WebGPU flag | backend the app chose | model ready ms | drop to mask ms | **first mask ms** (page clock) | harness: ready / first mask ms | app timings |',
    '|---|---|---:|---:|---:|---:|---|'];
  const n = (v) => v.toLocaleString('en-US');
  for (const [flag, x] of [['off', c.cpu], ['on', c.webgpu]]) {
    const p = x.page;
    out.push(x.ok
      ? `| ${flag} | ${x.backend} | ${p ? n(p.readyMs) : '?'} | ${p ? n(p.dropToMaskMs) : '?'} | **${p ? n(p.maskMs) : '?'}** | ${n(x.readyMs)} / ${n(x.maskMs)} | ${x.timings} |`
      : `| ${flag} | ${x.backend} | failed | | | ${x.error} | |`);
  }
  out.push('', 'First mask (page clock) = model ready + drop to mask, both timed by the page itself from navigation start (`performance.now()`, a MutationObserver on the status and the file input\'s change event): the harness\'s own times (right) add its 100 ms polling of the status and the round trip of the drop, and the time the page sat ready waiting for it.', '');
  return out;
}

function downloadSection() {
  const d = r.download;
  if (!d) return [];
  const out = ['Download (what a first visit fetches; gzip -9 and brotli q11 from node:zlib):', '',
    '| file | kind | raw MB | gzip MB | brotli MB |', '|---|---|---:|---:|---:|'];
  for (const x of d.rows) out.push(`| \`${x.file}\` | ${x.kind} | ${mb(x.raw)} | ${mb(x.gzip)} | ${mb(x.brotli)} |`);
  out.push(`| **wasm + JS + default weights** | | **${mb(d.goal.raw)}** | **${mb(d.goal.gzip)}** | **${mb(d.goal.brotli)}** |`);
  out.push(`| with index.html and CSS | | ${mb(d.withPage.raw)} | ${mb(d.withPage.gzip)} | ${mb(d.withPage.brotli)} |`);
  const met = d.goal.gzip <= GOAL_BYTES;
  out.push('', `Goal "wasm + JS + default weights ≤ 8 MB compressed": ${mb(d.goal.gzip)} MB gzip, ${mb(d.goal.brotli)} MB brotli: **${met ? 'met' : 'not met'}**.`, '');
  return out;
}

function largestSection() {
  const l = r.largest;
  if (!l) return [];
  const out = [`Largest image on the CPU backend (default model, synthetic grey PNG, fresh browser per size, limit ${r.settings.largestLimitS} s each):`, '',
    '| size | outcome | after s | detail |', '|---|---|---:|---|'];
  for (const x of l) {
    const detail = `${x.detail ?? ''}${x.errors?.length && x.outcome !== 'panic' ? ` — console: ${x.errors.slice(0, 2).join(' | ')}` : ''}`.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 300);
    out.push(`| ${x.side}×${x.side} | ${x.outcome === 'mask' ? '**mask**' : `**${x.outcome}**`} | ${x.seconds?.toFixed(1) ?? ''} | ${detail} |`);
  }
  out.push('');
  return out;
}

const lines = [
  BEGIN,
  `Run of ${r.date.slice(0, 16).replace('T', ' ')} UTC (\`scripts/bench/browser.sh\`, commit \`${env.BENCH_COMMIT ?? '?'}\`).`,
  '',
  `- Browser: ${env.BENCH_CHROMIUM ?? '?'}, headless, driven by playwright-core; \`navigator.hardwareConcurrency\` = ${r.hardwareConcurrency ?? '?'}.`,
  `- onnxruntime-web ${env.BENCH_ORT_VERSION ?? '?'} (npm, pinned in tests/e2e/package.json).`,
  `- Model: \`${r.model}\`; CPU pair at ${r.settings.cpuSize} (${r.settings.cpuRuns} timed runs), WebGPU pair at ${r.settings.gpuSize} (${r.settings.gpuRuns} timed runs); one warm-up each.`,
  `- Load average (1, 5, 15 min): ${env.BENCH_LOAD_BEFORE ?? '?'} before, ${env.BENCH_LOAD_AFTER ?? '?'} after.`,
  '',
  ...forwardSection(),
  ...coldSection(),
  ...downloadSection(),
  ...largestSection(),
  END,
];

const doc = fs.readFileSync(benchmarksPath, 'utf8');
const start = doc.indexOf('<!-- browser-bench:begin');
const end = doc.indexOf(END);
if (start < 0 || end < start) throw new Error(`${benchmarksPath}: the browser-bench markers are missing`);
fs.writeFileSync(benchmarksPath, doc.slice(0, start) + lines.join('\n') + doc.slice(end + END.length));
console.error(`[bench] wrote the browser results into ${benchmarksPath}`);
