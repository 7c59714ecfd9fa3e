// A static file server for dist/ mounted under a subpath (default /a/b/app/), on 127.0.0.1.
// Serving from a subpath proves the build uses relative URLs only.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

/** COOP and COEP, as scripts/serve.py sends them: the page is cross-origin isolated. */
const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/** Starts the server; resolves to { url, close, requests } where `requests` lists every path
 * asked for. With `isolated`, every answer carries COOP and COEP. */
export async function serve(root, subpath = '/a/b/app/', { isolated = false } = {}) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    requests.push(url.pathname);
    if (!url.pathname.startsWith(subpath)) {
      res.writeHead(404).end('outside the app');
      return;
    }
    let rel = decodeURIComponent(url.pathname.slice(subpath.length)) || 'index.html';
    const file = path.resolve(root, rel);
    if (!file.startsWith(path.resolve(root))) {
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
        'cache-control': 'no-store',
        ...(isolated ? ISOLATION : {}),
      });
      fs.createReadStream(file).pipe(res);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}${subpath}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
