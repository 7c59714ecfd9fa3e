// The benchmark's static server on 127.0.0.1: several folders under their own URL prefixes
// (the app's dist/, onnxruntime-web's dist/, the ORT page, the exported ONNX models), so one
// origin serves everything and the ORT page can load its .wasm files without CORS. With
// `isolated`, every response carries COOP and COEP (as scripts/serve.sh sends them), so the pages
// are cross-origin isolated and may use SharedArrayBuffer, hence wasm threads.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
};

/** Serves `mounts` ({ '/prefix/': folder }); resolves to { origin, close }. */
export async function serveMounts(mounts, { isolated = false } = {}) {
  const isolation = isolated
    ? {
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
    }
    : {};
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const prefix = Object.keys(mounts).find((p) => url.pathname.startsWith(p));
    if (!prefix) {
      res.writeHead(404).end('not found');
      return;
    }
    const root = path.resolve(mounts[prefix]);
    const rel = decodeURIComponent(url.pathname.slice(prefix.length)) || 'index.html';
    const file = path.resolve(root, rel);
    if (!file.startsWith(root + path.sep)) {
      res.writeHead(403).end();
      return;
    }
    fs.stat(file, (err, stat) => {
      if (err || !stat.isFile()) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-length': stat.size,
        // Every load is a cold one: no HTTP cache between the cold-start runs.
        'cache-control': 'no-store',
        ...isolation,
      });
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
