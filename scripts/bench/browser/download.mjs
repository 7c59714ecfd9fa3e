// What a first visit downloads: the wasm, the JS glue and the default weights, raw, gzip (-9)
// and brotli (quality 11), as a server with static compression would send them.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** Sizes of the files in `dist` that a first visit needs, per kind and in total. */
export function downloadSizes(dist) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dist, 'assets/models/manifest.json'), 'utf8'));
  const weights = manifest.models.find((m) => m.id === manifest.default) ?? manifest.models[0];
  // The threaded module (threads/) too: a plain page never runs it, but the offline worker
  // stores every file of the build on the first visit.
  const site = fs.readdirSync(dist, { recursive: true }).map(String)
    .filter((f) => !f.includes(path.sep) || f.startsWith(`threads${path.sep}`));
  const files = [
    ...site.filter((f) => f.endsWith('.wasm')).map((f) => ['wasm', f]),
    ...site.filter((f) => f.endsWith('.js')).map((f) => ['js', f]),
    ['weights', path.join('assets/models', weights.file)],
    ...site.filter((f) => f.endsWith('.html') || f.endsWith('.css')).map((f) => ['page', f]),
  ];
  const rows = files.map(([kind, file]) => {
    const bytes = fs.readFileSync(path.join(dist, file));
    return {
      kind,
      file,
      raw: bytes.length,
      gzip: zlib.gzipSync(bytes, { level: 9 }).length,
      brotli: zlib.brotliCompressSync(bytes, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }).length,
    };
  });
  const sum = (kinds, key) => rows.filter((r) => kinds.includes(r.kind)).reduce((n, r) => n + r[key], 0);
  const goal = ['wasm', 'js', 'weights'];
  return {
    rows,
    goal: { raw: sum(goal, 'raw'), gzip: sum(goal, 'gzip'), brotli: sum(goal, 'brotli') },
    withPage: { raw: sum([...goal, 'page'], 'raw'), gzip: sum([...goal, 'page'], 'gzip'), brotli: sum([...goal, 'page'], 'brotli') },
  };
}
