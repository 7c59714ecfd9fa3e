// unet-web's service worker: the whole app offline, and cross-origin isolation on any host.
//
// - Offline: on install it stores every file of the build (page, wasm, JS, styles, bundled
//   models and samples; the list and the version below are filled in by scripts/pwa.py at
//   build time), so a later visit works with the network off. Files are answered from that
//   store; the page itself is fetched first and taken from the store only when the network
//   fails, so a new deployment is seen on the next visit. A new build has a new version: its
//   worker replaces the old store when it activates.
// - Isolation: every answer it gives carries Cross-Origin-Opener-Policy and
//   Cross-Origin-Embedder-Policy (the coi-serviceworker approach), so the page is
//   cross-origin isolated (SharedArrayBuffer, wasm threads) on static hosts that cannot set
//   headers. Only same-origin files are involved: the page loads nothing from elsewhere.
const VERSION = '__VERSION__';
const FILES = __FILES__;
const STORE = `unet-web-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(STORE)
      .then((store) => store.addAll(FILES))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith('unet-web-') && key !== STORE).map((key) => caches.delete(key)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(answer(request));
});

async function answer(request) {
  if (request.mode === 'navigate') {
    try {
      return isolated(await fetch(request));
    } catch (offline) {
      const page = await caches.match(new URL('index.html', self.registration.scope).href, { cacheName: STORE });
      if (page) return isolated(page);
      throw offline;
    }
  }
  const stored = await caches.match(request, { cacheName: STORE });
  return isolated(stored ?? await fetch(request));
}

function isolated(response) {
  // Opaque and error responses cannot be rebuilt; they pass as they are.
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
