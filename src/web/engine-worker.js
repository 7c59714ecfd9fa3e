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
