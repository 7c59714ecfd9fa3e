// The inference engine's Web Worker (src/engine/worker/): the page's own wasm module, started a
// second time. The page sends the URL of its JS glue and the WebAssembly.Module it compiled, so
// nothing is downloaded or compiled again; the module's start function finds no window and
// serves the engine, answering the page's messages from then on.
self.onmessage = async (event) => {
  self.onmessage = null;
  try {
    const { js, module } = event.data;
    const glue = await import(js);
    await glue.default({ module_or_path: module });
  } catch (error) {
    self.postMessage({ kind: 'failed', error: String((error && error.message) || error) });
  }
};

// The CPU path on `threads` threads (src/engine/threads/): the threaded module of
// crates/engine-threads (built into threads/ by scripts/build-threads.sh), whose rayon pool is
// one worker per thread sharing its memory. The engine calls this, from this worker only, the
// first time it runs on the CPU of a cross-origin isolated page; it resolves to the module.
// A module has one pool: later calls get the first call's.
let threadsStarted;
self.unetStartThreads = (threads) => {
  threadsStarted ??= (async () => {
    const module = await import('./threads/unet_engine_threads.js');
    await module.default();
    await module.initThreadPool(threads);
    return module;
  })();
  return threadsStarted;
};
