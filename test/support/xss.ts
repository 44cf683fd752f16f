import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** The corpus of test/fixtures/xss/vectors.txt, by the fields its sections go into. */
export interface XssCorpus {
  html: string[];
  markdown: string[];
  url: string[];
}

export function readXssCorpus(): XssCorpus {
  const corpus: XssCorpus = { html: [], markdown: [], url: [] };
  let section: keyof XssCorpus | undefined;
  for (const line of readFileSync(join(import.meta.dirname, '../fixtures/xss/vectors.txt'), 'utf8').split('\n')) {
    const heading = /^## (html|markdown|url)$/.exec(line);
    if (heading) section = heading[1] as keyof XssCorpus;
    else if (section && line !== '' && !line.startsWith('#')) corpus[section].push(line.replaceAll('⏎', '\n'));
  }
  return corpus;
}

/** Where a vector that ran would send the browser: any host under it. */
export const BEACON_DOMAIN = 'xss.test';

/**
 * Chromium that reaches only this machine: every other host name fails to resolve, so no request leaves, yet each is
 * still seen (and reported when it is for xss.test).
 */
export function launchOffline(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
}

/**
 * A browser context that reports what a vector would do if it ran: dialogs (alert, confirm, prompt), requests for
 * anything under xss.test, new windows, navigations away from the page loaded, script errors, and (where the CSP
 * applies) the CSP refusing something, which means something got past the sanitizer. `pages` are served by the test.
 */
export class Trap {
  readonly events: string[] = [];
  private expected = new WeakMap<Page, string>();

  private constructor(readonly context: BrowserContext) {}

  static async open(browser: Browser, options: { bypassCSP: boolean; pages?: Record<string, string> }): Promise<Trap> {
    const context = await browser.newContext({ bypassCSP: options.bypassCSP, javaScriptEnabled: true });
    const trap = new Trap(context);
    context.on('request', (request) => {
      const url = request.url();
      const host = URL.canParse(url) ? new URL(url).hostname : '';
      if (host === BEACON_DOMAIN || host.endsWith(`.${BEACON_DOMAIN}`)) trap.events.push(`request for ${url}`);
    });
    for (const [url, body] of Object.entries(options.pages ?? {})) {
      await context.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body }));
    }
    context.on('page', (page) => trap.watch(page));
    return trap;
  }

  private watch(page: Page): void {
    page.on('dialog', (dialog) => {
      this.events.push(`${dialog.type()} dialog "${dialog.message()}" on ${page.url()}`);
      void dialog.dismiss().catch(() => undefined);
    });
    page.on('popup', (popup) => this.events.push(`window opened: ${popup.url()}`));
    page.on('pageerror', (error) => this.events.push(`script error on ${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) this.events.push(`CSP refused something on ${page.url()}: ${message.text()}`);
    });
    page.on('framenavigated', (frame) => {
      const expected = this.expected.get(page);
      if (frame === page.mainFrame() && expected && frame.url() !== expected) this.events.push(`navigated from ${expected} to ${frame.url()}`);
    });
  }

  /** Loads each URL in its own tab, `tabs` at a time, and leaves it open `settleMs` for what fires late (autofocus, animations). */
  async visit(urls: string[], check: (page: Page, url: string) => Promise<void>, { tabs = 6, settleMs = 150 } = {}): Promise<void> {
    const queue = [...urls];
    await Promise.all(
      Array.from({ length: Math.min(tabs, urls.length) }, async () => {
        const page = await this.context.newPage();
        for (let url = queue.shift(); url !== undefined; url = queue.shift()) {
          this.expected.set(page, url);
          const response = await page.goto(url, { waitUntil: 'load' }).catch((error: Error) => (this.events.push(`${url} did not load: ${error.message}`), undefined));
          if (!response || response.status() !== 200) this.events.push(`${url} answered ${response?.status()}`);
          await page.waitForTimeout(settleMs);
          await check(page, url);
        }
        await page.close();
      }),
    );
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

// The page's globals, as the function below sees them in the browser (this project compiles without the DOM library).
interface DomElement {
  localName: string;
  namespaceURI: string | null;
  parentElement: unknown;
  attributes: ArrayLike<{ name: string; value: string }>;
  hasAttribute(name: string): boolean;
}
declare const document: { head: unknown; baseURI: string; URL: string; contentType: string; querySelectorAll(selector: string): ArrayLike<DomElement> };

/**
 * What in a loaded document could run script or load something a reader did not ask for, judged on the browser's own
 * parse of it (which is what mutation vectors aim at): script-capable or foreign (SVG, MathML) elements, event
 * handler and style attributes, URLs that are not http(s) or mailto once the browser resolved them, a moved base URI,
 * a refresh. Runs in the page (the CSP does not apply to what the test evaluates).
 */
export function inertnessProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const XHTML = 'http://www.w3.org/1999/xhtml';
    const forbidden = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'form', 'input', 'button', 'textarea', 'select', 'isindex', 'keygen', 'template', 'noscript', 'noembed', 'noframes', 'xmp', 'portal', 'fencedframe']);
    const urlAttributes = new Set(['href', 'src', 'action', 'formaction', 'poster', 'data', 'background', 'ping', 'cite', 'longdesc', 'lowsrc', 'dynsrc', 'xlink:href', 'codebase', 'manifest', 'usemap']);
    const safe = (value: string) => {
      try {
        return ['http:', 'https:', 'mailto:'].includes(new URL(value, document.baseURI).protocol);
      } catch {
        return false;
      }
    };
    for (const el of Array.from(document.querySelectorAll('*'))) {
      const name = el.localName;
      if (el.namespaceURI !== XHTML) problems.push(`a foreign element <${name}> (${el.namespaceURI})`);
      if (forbidden.has(name)) problems.push(`a <${name}> element`);
      if ((name === 'style' || name === 'link' || name === 'meta') && el.parentElement !== document.head) problems.push(`a <${name}> outside the head`);
      if (name === 'meta' && el.hasAttribute('http-equiv')) problems.push('a <meta http-equiv>');
      for (const attribute of Array.from(el.attributes)) {
        const attr = attribute.name.toLowerCase();
        if (attr.startsWith('on')) problems.push(`an event handler <${name} ${attr}>`);
        // (Chromium shows a feed as text in a <pre> of its own making, styled.)
        if (attr === 'style' && document.contentType === 'text/html') problems.push(`a style attribute on <${name}>`);
        if (urlAttributes.has(attr) && !safe(attribute.value)) problems.push(`<${name} ${attr}="${attribute.value.slice(0, 80)}">`);
        if (attr === 'srcset' || attr === 'imagesrcset') {
          for (const candidate of attribute.value.split(',')) if (!safe(candidate.trim().split(/\s+/)[0] ?? '')) problems.push(`<${name} ${attr}="${attribute.value.slice(0, 80)}">`);
        }
      }
    }
    if (document.baseURI !== document.URL) problems.push(`the base URI moved to ${document.baseURI}`);
    return problems;
  });
}
