// Small helpers shared by the benchmark's parts.
import { AppPage } from '../../../tests/e2e/lib/app.mjs';

export { AppPage };

export function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Rejects after `seconds` with `what` in the message; the browser work itself is left running. */
export function withLimit(promise, seconds, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Median as `unet bench` and peers.py take it: the middle of the sorted times (upper middle for an even count). */
export function summarise(timesMs) {
  const sorted = [...timesMs].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    median_ms: sorted[Math.floor(sorted.length / 2)],
    min_ms: sorted[0],
    max_ms: sorted[sorted.length - 1],
  };
}

/** Opens the app (query string `query`) in a new page of `context` and waits for its model. */
export async function openApp(context, appUrl, query, timeoutMs) {
  const page = await context.newPage();
  const app = new AppPage(page);
  await page.goto(appUrl + query);
  await app.waitForState(['idle', 'done', 'error'], timeoutMs);
  return { page, app };
}
