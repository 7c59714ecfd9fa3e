// A page object for unet-web: everything the specs do goes through the DOM contract
// (data-testid attributes), the same one outside tests rely on.
import fs from 'node:fs';
import path from 'node:path';
import { decodePng } from './png.mjs';

export const TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 240_000);

export class AppPage {
  constructor(page) {
    this.page = page;
    this.consoleErrors = [];
    page.on('console', (m) => {
      if (m.type() === 'error') this.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => this.consoleErrors.push(String(e)));
  }

  status() {
    return this.page.locator('[data-testid=status]');
  }

  async goto(url) {
    // Every Content-Security-Policy violation of the page, for specs to check.
    await this.page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.cspViolations.push(`${e.effectiveDirective} ${e.blockedURI}`);
      });
    });
    await this.page.goto(url);
  }

  async state() {
    return this.status().getAttribute('data-state');
  }

  /** Waits until `data-state` is one of `states`; fails with the status text otherwise. */
  async waitForState(states, timeout = TIMEOUT_MS) {
    const wanted = Array.isArray(states) ? states : [states];
    try {
      await this.page.waitForFunction(
        (w) => w.includes(document.querySelector('[data-testid=status]')?.getAttribute('data-state')),
        wanted,
        { timeout, polling: 100 },
      );
    } catch (e) {
      const text = await this.status().textContent().catch(() => '?');
      throw new Error(`status never became ${wanted.join('|')} (is ${await this.state()}: ${text}); console: ${this.consoleErrors.join(' | ')}`);
    }
  }

  /** Model loaded and nothing queued. */
  async waitUntilReady() {
    await this.waitForState(['idle', 'done', 'error']);
    const state = await this.state();
    if (state === 'error') {
      throw new Error(`the app reports an error: ${await this.status().textContent()}`);
    }
  }

  async backendText() {
    return this.page.locator('[data-testid=backend]').textContent();
  }

  /** Drops files through the page's file input; `files` are paths or {name, buffer}. */
  async dropFiles(files) {
    const input = this.page.locator('[data-testid=drop-zone] input[type=file]');
    await input.setInputFiles(files.map((f) =>
      typeof f === 'string' ? f : { name: f.name, mimeType: f.mimeType ?? 'image/png', buffer: f.buffer }));
  }

  /** Loads a model through "Load your own model". */
  async loadModel(file) {
    await this.page.locator('[data-testid=model-input]').setInputFiles(file);
  }

  /** Loads a model file through "Load your own model" and waits until it is in use. */
  async switchModel(file, cardName) {
    await this.loadModel(file);
    await this.page.waitForFunction(
      (name) => document.querySelector('[data-testid=model-card] summary')?.textContent.includes(name),
      cardName,
      { timeout: TIMEOUT_MS, polling: 100 },
    );
  }

  /** Clicks export-mask and returns the downloaded bytes and file name. */
  async exportMask() {
    const [download] = await Promise.all([
      this.page.waitForEvent('download'),
      this.page.locator('[data-testid=export-mask]').click(),
    ]);
    const file = await download.path();
    return { name: download.suggestedFilename(), bytes: fs.readFileSync(file) };
  }

  /** The viewer canvas as { width, height, data: RGBA bytes }. */
  async canvasPixels() {
    return this.page.evaluate(() => {
      const canvas = document.querySelector('[data-testid=viewer]');
      const ctx = canvas.getContext('2d');
      const { width, height } = canvas;
      return { width, height, data: Array.from(ctx.getImageData(0, 0, width, height).data) };
    });
  }

  async toggleMask() {
    await this.page.keyboard.press('m');
  }

  async screenshot(file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    await this.page.screenshot({ path: file, fullPage: false });
  }
}

/** Fraction of equal pixels between two single-channel masks (PNG bytes); sizes must match. */
export function maskAgreement(aBytes, bBytes) {
  const a = decodePng(aBytes);
  const b = decodePng(bBytes);
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`mask sizes differ: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  }
  if (a.channels !== 1 || b.channels !== 1) throw new Error('masks must be greyscale PNGs');
  let equal = 0;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] === b.data[i]) equal++;
  return { fraction: equal / a.data.length, width: a.width, height: a.height, mask: a };
}
