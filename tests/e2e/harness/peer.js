/**
 * @file One API over a playwright-core page (Chromium) and a puppeteer-core page (Firefox over
 * WebDriver BiDi): goto, click, value/text/attribute of a selector, polling waits, file choice,
 * element screenshots, evaluate. It records the page's console output and uncaught errors, and
 * every failed wait throws with a snapshot of the UI and the recent console lines, so a failure
 * reads as "what the user would have seen".
 */

/**
 * Anything a failed wait also reports on: another page, or a CLI run (`harness/cli.js`).
 * @typedef {{ diagnose(): string | Promise<string> }} Witness
 */

/** How many console lines a failure message shows. */
const CONSOLE_TAIL = 60;

/** Snapshot of the UI contract, taken inside the page. */
function snapshotInPage() {
  const vis = (/** @type {Element | null} */ e) => !!e && e.getClientRects().length > 0;
  const q = (/** @type {string} */ s) => document.querySelector(s);
  const status = q('#status');
  const error = q('#error');
  return {
    url: location.href.replace(/#pair=.*/, '#pair=…'),
    status: status ? `${status.getAttribute('data-state')} "${status.textContent}"` : null,
    error: vis(error) ? `${error?.getAttribute('data-code')} "${error?.textContent}"` : null,
    sas: q('#sas')?.textContent || null,
    qrVisible: vis(q('#qr')),
    incoming: vis(q('#incoming')) ? [q('#incoming-title')?.textContent, ...[...document.querySelectorAll('#incoming-files li')].map((li) => li.textContent)] : null,
    ownName: /** @type {HTMLInputElement | null} */ (q('#own-name'))?.value ?? null,
    transfers: [...document.querySelectorAll('#transfers li.transfer')].map(
      (li) => `${li.getAttribute('data-direction')}:${li.getAttribute('data-state')} "${li.textContent}"`,
    ),
    received: [...document.querySelectorAll('#received a.download')].map(
      (a) => `${a.getAttribute('download')} (${a.getAttribute('data-size')} B)`,
    ),
    devices: [...document.querySelectorAll('#devices li.device')].map((li) => {
      const err = li.querySelector('.device-error');
      const code = vis(err) ? ` error=${err?.getAttribute('data-code')}` : '';
      return `${li.getAttribute('data-device-id')?.slice(0, 8)}… ${li.getAttribute('data-presence')} "${li.querySelector('.device-name')?.textContent}"${code}`;
    }),
    devicesNotice: vis(q('#devices-notice')) ? `${q('#devices-notice')?.getAttribute('data-code')} "${q('#devices-notice')?.textContent}"` : null,
  };
}

export class Peer {
  /**
   * @param {string} name label used in messages, e.g. "A (chromium)"
   * @param {'chromium' | 'firefox'} kind
   * @param {any} page playwright Page or puppeteer Page
   * @param {() => Promise<void>} closeContext
   */
  constructor(name, kind, page, closeContext) {
    this.name = `${name} (${kind})`;
    this.kind = kind;
    this.page = page;
    this.closeContext = closeContext;
    /** @type {string[]} */
    this.logs = [];
    page.on('console', (/** @type {any} */ m) => this.logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (/** @type {any} */ e) => this.logs.push(`[pageerror] ${e?.stack ?? e?.message ?? e}`));
    page.on('response', (/** @type {any} */ r) => {
      if (r.status() >= 400) this.logs.push(`[http ${r.status()}] ${r.url()}`);
    });
    // The app asks before it is left while a transfer runs or a received file was never saved
    // (beforeunload). A test navigates as it needs: the prompt is logged (a test can see that it
    // came) and answered "leave". Any other dialog is dismissed, as with no listener.
    page.on('dialog', (/** @type {any} */ d) => {
      const type = d.type();
      this.logs.push(`[dialog] ${type}`);
      (type === 'beforeunload' ? d.accept() : d.dismiss()).catch(() => {});
    });
    if (kind === 'chromium') {
      page.on('requestfailed', (/** @type {any} */ r) => this.logs.push(`[requestfailed] ${r.url()} ${r.failure()?.errorText}`));
    }
  }

  /** @param {string} url */
  async goto(url) {
    await this.page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  }

  /**
   * Runs `fn(arg)` in the page and returns its (serializable) result.
   * @template T, A
   * @param {(arg: A) => T | Promise<T>} fn
   * @param {A} [arg]
   * @returns {Promise<T>}
   */
  evaluate(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  /** @returns {Promise<ReturnType<typeof snapshotInPage> | string>} */
  async snapshot() {
    try {
      return await this.evaluate(snapshotInPage);
    } catch (e) {
      return `(no snapshot: ${e})`;
    }
  }

  /** @returns {Promise<string>} UI snapshot plus the last console lines, for failure messages */
  async diagnose() {
    const snap = await this.snapshot();
    const tail = this.logs.slice(-CONSOLE_TAIL);
    return (
      `--- ${this.name} ---\nUI: ${JSON.stringify(snap, null, 1)}\n` +
      `console (${this.logs.length} lines${this.logs.length > tail.length ? `, last ${tail.length}` : ''}):\n` +
      (tail.length ? tail.map((l) => `  ${l}`).join('\n') : '  (none)')
    );
  }

  /**
   * Polls `fn(arg)` in the page until it returns a truthy value, and returns that value.
   * On timeout, throws with `what`, the UI snapshot and console output of this page and of
   * `also` (e.g. the other peer).
   * @template T, A
   * @param {string} what human description of the awaited condition
   * @param {(arg: A) => T} fn
   * @param {A} [arg]
   * @param {{ timeout?: number, interval?: number, also?: Witness[], failIf?: (v: any) => string | null, probe?: (arg: A) => any }} [opts]
   *   `probe`/`failIf`: an optional second in-page check that aborts the wait early (e.g. an error appeared)
   * @returns {Promise<T>}
   */
  async waitUntil(what, fn, arg, { timeout = 30_000, interval = 150, also = [], failIf, probe } = {}) {
    const deadline = Date.now() + timeout;
    let lastErr = null;
    for (;;) {
      try {
        const v = await this.evaluate(fn, arg);
        if (v) return v;
        if (failIf && probe) {
          const reason = failIf(await this.evaluate(probe, arg));
          // The condition may have come true between the two checks (a row that reached the
          // awaited state, which the probe also matches, made this flaky).
          const late = reason ? await this.evaluate(fn, arg) : null;
          if (late) return late;
          if (reason) throw await this.failure(`${this.name}: ${reason} while waiting for ${what}`, also);
        }
        lastErr = null;
      } catch (e) {
        if (e instanceof WaitError) throw e;
        lastErr = e; // navigation in progress, page busy: retry until the deadline
      }
      if (Date.now() > deadline) {
        throw await this.failure(
          `${this.name}: timed out after ${timeout} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}`,
          also,
        );
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  }

  /**
   * @param {string} message
   * @param {Witness[]} [also]
   */
  async failure(message, also = []) {
    const parts = [message, await this.diagnose()];
    for (const p of also) parts.push(await p.diagnose());
    return new WaitError(parts.join('\n'));
  }

  /**
   * Waits until `selector` matches an element with a layout box (i.e. it is shown).
   * @param {string} selector
   * @param {{ timeout?: number, also?: Witness[] }} [opts]
   */
  waitVisible(selector, opts) {
    return this.waitUntil(
      `${selector} to be visible`,
      (s) => [...document.querySelectorAll(s)].some((e) => e.getClientRects().length > 0),
      selector,
      opts,
    );
  }

  /**
   * Waits until `selector` matches an element whose attribute `name` equals `value`.
   * @param {string} selector
   * @param {string} name
   * @param {string} value
   * @param {{ timeout?: number, also?: Witness[] }} [opts]
   */
  waitAttr(selector, name, value, opts) {
    return this.waitUntil(
      `${selector}[${name}="${value}"]`,
      ({ s, n, v }) => [...document.querySelectorAll(s)].some((e) => e.getAttribute(n) === v),
      { s: selector, n: name, v: value },
      opts,
    );
  }

  /** @param {string} selector @returns {Promise<boolean>} */
  isVisible(selector) {
    return this.evaluate((s) => [...document.querySelectorAll(s)].some((e) => e.getClientRects().length > 0), selector);
  }

  /** @param {string} selector @returns {Promise<number>} */
  count(selector) {
    return this.evaluate((s) => document.querySelectorAll(s).length, selector);
  }

  /** @param {string} selector @returns {Promise<string | null>} */
  text(selector) {
    return this.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector);
  }

  /** @param {string} selector @returns {Promise<string | null>} value of an input */
  value(selector) {
    return this.evaluate((s) => /** @type {HTMLInputElement | null} */ (document.querySelector(s))?.value ?? null, selector);
  }

  /** @param {string} selector @param {string} name @returns {Promise<string | null>} */
  attr(selector, name) {
    return this.evaluate(({ s, n }) => document.querySelector(s)?.getAttribute(n) ?? null, { s: selector, n: name });
  }

  /**
   * Clicks the element like a user (waits until it is shown first).
   * @param {string} selector
   * @param {{ timeout?: number, also?: Witness[] }} [opts]
   */
  async click(selector, opts) {
    await this.waitVisible(selector, opts);
    await this.page.click(selector);
  }

  /**
   * Types `text` into an input like a user (replacing what it held).
   * @param {string} selector
   * @param {string} text
   */
  async fill(selector, text) {
    await this.waitVisible(selector);
    if (this.kind === 'chromium') await this.page.fill(selector, text);
    else {
      await this.page.$eval(selector, (/** @type {HTMLInputElement} */ e) => (e.value = ''));
      await this.page.type(selector, text);
    }
  }

  /**
   * Chooses files in an `<input type=file>` (fires `input` and `change` like a user's choice).
   * @param {string} selector
   * @param {string[]} paths
   */
  async setInputFiles(selector, paths) {
    if (this.kind === 'chromium') {
      await this.page.setInputFiles(selector, paths, { timeout: 60_000 });
    } else {
      const input = await this.page.$(selector);
      if (!input) throw await this.failure(`${this.name}: no element ${selector} to choose files in`);
      await input.uploadFile(...paths);
      await input.dispose();
    }
  }

  /**
   * PNG screenshot of the first element matching `selector`.
   * @param {string} selector
   * @returns {Promise<Buffer>}
   */
  async screenshot(selector) {
    if (this.kind === 'chromium') return this.page.locator(selector).first().screenshot({ timeout: 30_000 });
    const handle = await this.page.$(selector);
    if (!handle) throw await this.failure(`${this.name}: no element ${selector} to screenshot`);
    const png = await handle.screenshot({ type: 'png' });
    await handle.dispose();
    return Buffer.from(png);
  }

  /** Closes this peer's page and context (never throws). */
  async close() {
    await this.closeContext().catch(() => {});
  }
}

/** A wait that failed with diagnostics already attached. */
export class WaitError extends Error {
  name = 'WaitError';
}
