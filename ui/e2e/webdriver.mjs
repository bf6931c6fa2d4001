/**
 * A small W3C WebDriver client over `fetch` (no library), for the real app driven through
 * tauri-driver: `ui/e2e/two-instances.mjs` (the E2E scenario) and `ui/e2e/bench.mjs`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
export const ENTER = '\uE007';
const PATIENCE_MS = Number(process.env.E2E_PATIENCE_MS ?? 30_000);
const SLOW_WAIT_MS = 2_000;

export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export function log(...words) {
  console.log(`e2e [${new Date().toISOString().slice(11, 23)}]`, ...words);
}

/** One app window behind one tauri-driver. */
export class Window {
  constructor(name, port, { app, out = 'target/e2e', patience = PATIENCE_MS } = {}) {
    this.name = name;
    this.app = app;
    this.out = out;
    this.patience = patience;
    this.base = `http://127.0.0.1:${port}`;
    this.session = null;
  }

  async request(method, path, body) {
    const url = this.session ? `${this.base}/session/${this.session}${path}` : `${this.base}${path}`;
    const response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.patience * 2),
    }).catch((error) => {
      // Say which request: a WebDriver call that never answers is otherwise anonymous.
      throw new Error(`${this.name}: ${method} ${path}${body === undefined ? '' : ` ${JSON.stringify(body).slice(0, 120)}`}: ${error.message}`);
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(`${this.name}: ${method} ${path}: ${answer.value?.error ?? response.status}: ${answer.value?.message ?? ''}`);
      error.code = answer.value?.error;
      throw error;
    }
    return answer.value;
  }

  async open() {
    const value = await this.request('POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: this.app } } },
    });
    this.session = value.sessionId;
    log(`${this.name}: session ${this.session}`);
  }

  async close() {
    if (!this.session) return;
    await this.request('DELETE', '').catch(() => {});
    this.session = null;
  }

  /** All elements matching `css` (inside `within` when given). */
  async all(css, within) {
    const path = within ? `/element/${within}/elements` : '/elements';
    const found = await this.request('POST', path, { using: 'css selector', value: css });
    return found.map((e) => e[ELEMENT]);
  }

  /** Waits until `probe()` returns something truthy; returns it. */
  async until(what, probe) {
    const start = Date.now();
    const deadline = start + this.patience;
    let last;
    for (;;) {
      try {
        const value = await probe();
        if (value) {
          // A slow wait is worth knowing about before it becomes a failed one.
          if (Date.now() - start > SLOW_WAIT_MS) log(`${this.name}: waited ${Date.now() - start} ms for ${what}`);
          return value;
        }
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: gave up waiting for ${what} after ${this.patience} ms${last ? ` (${last.message})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** The first element with this test id (inside `within`), once it is shown. */
  async testId(id, within) {
    return this.until(`[data-testid="${id}"]`, async () => {
      for (const element of await this.all(`[data-testid="${id}"]`, within)) {
        if (await this.request('GET', `/element/${element}/displayed`).catch(() => true)) return element;
      }
      return null;
    });
  }

  text(element) {
    return this.request('GET', `/element/${element}/text`);
  }

  /** The element's DOM text, for where WebKitWebDriver's rendered text falls short. */
  textContent(element) {
    return this.script('return arguments[0].textContent', [{ [ELEMENT]: element }]);
  }

  attribute(element, name) {
    return this.request('GET', `/element/${element}/attribute/${name}`);
  }

  /** A WebDriver click; elements revealed only on hover are clicked from the page instead. */
  async click(element) {
    try {
      await this.request('POST', `/element/${element}/click`, {});
    } catch (error) {
      if (!/not interactable|intercepted|not visible/i.test(`${error.code} ${error.message}`)) throw error;
      await this.script('arguments[0].click()', [{ [ELEMENT]: element }]);
    }
  }

  /** Moves the mouse over an element (what reveals a message's hover actions). */
  async hover(element) {
    await this.request('POST', '/actions', {
      actions: [
        {
          type: 'pointer',
          id: 'mouse',
          parameters: { pointerType: 'mouse' },
          actions: [{ type: 'pointerMove', duration: 0, origin: { [ELEMENT]: element }, x: 0, y: 0 }],
        },
      ],
    });
  }

  async type(element, text) {
    await this.request('POST', `/element/${element}/value`, { text });
  }

  async clear(element) {
    await this.request('POST', `/element/${element}/clear`, {});
  }

  script(source, args = []) {
    return this.request('POST', '/execute/sync', { script: source, args });
  }

  /** The message row whose content includes `text`. */
  async message(text) {
    return this.until(`a message saying "${text}"`, async () => {
      for (const row of await this.all('[data-testid="message"]')) {
        const [content] = await this.all('[data-testid="message-content"]', row);
        if (content && (await this.text(content)).includes(text)) return row;
      }
      return null;
    });
  }

  async screenshot(file) {
    // WebKitWebDriver takes the shot after the next repaint that comes once it has asked for
    // one, and a page where nothing changes has none: no text field with a blinking caret, no
    // animation (the memories view after the kept moment; 120 s without an answer on the
    // idle conversation with the composer unfocused). A change made before asking comes too
    // early (a style touched once, even a visible one: the same), so the page repaints
    // something invisible every 100 ms for 5 s, and the shot comes within ~0.2 s.
    await this.request('POST', '/execute/sync', {
      script: `const s = document.documentElement.style;
        let n = 0;
        const timer = setInterval(() => {
          s.outline = s.outline ? '' : '1px solid transparent';
          if (++n === 50) clearInterval(timer);
        }, 100);`,
      args: [],
    });
    const png = await this.request('GET', '/screenshot');
    mkdirSync(this.out, { recursive: true });
    writeFileSync(join(this.out, file), Buffer.from(png, 'base64'));
    log(`${this.name}: screenshot ${join(this.out, file)}`);
  }

  /** Saves the page as it is now (the DOM, serialized), for a look after a failure. */
  async saveHtml(file) {
    const html = await this.request('POST', '/execute/sync', { script: 'return document.documentElement.outerHTML', args: [] });
    mkdirSync(this.out, { recursive: true });
    writeFileSync(join(this.out, file), html);
    log(`${this.name}: page saved as ${join(this.out, file)}`);
  }
}

