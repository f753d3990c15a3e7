import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { escapeHtml } from '../../src/offline/report/escape.js';
import { captureIo, makeTraceDir, oursRecord, PYTHON_LINES, type TraceDir } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const HOSTILE = '</pre><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">"\'&';

function hostileRecord(): string {
  const r = oursRecord({ iteration: 2, ts: 1_764_000_200 });
  (r.references as Record<string, unknown>[])[0]!.output = HOSTILE;
  (r.references as Record<string, unknown>[])[0]!.label = `<b>${HOSTILE}</b>`;
  (r.aggregator as Record<string, unknown>).input_messages = [{ role: 'user', content: HOSTILE }, { role: `x"><script>window.__pwned=3</script>`, content: [{ type: 'text', text: HOSTILE }] }];
  return JSON.stringify(r);
}

describe('report', () => {
  let dir: TraceDir;
  let out: string;
  beforeAll(() => {
    dir = makeTraceDir();
    out = mkdtempSync(path.join(tmpdir(), 'moa-report-'));
    dir.write('mixed.jsonl', `${PYTHON_LINES.join('\n')}\n${JSON.stringify(oursRecord())}\n${hostileRecord()}\n`);
  });
  afterAll(() => {
    dir.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  it('escapes every HTML special character', () => {
    expect(escapeHtml(`<a href="x">'&'</a>\u0000`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\\u0000');
  });

  it('writes one self-contained page: no script, no external resource, hostile content escaped', async () => {
    const file = path.join(out, 'plain.html');
    const cap = captureIo();
    expect(await runCli(['report', path.join(dir.dir, 'mixed.jsonl'), '-o', file], cap.io)).toBe(0);
    expect(cap.out).toBe(`wrote ${file} (4 turns)\n`);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'");
    expect(html.match(/<section class="turn"/g)).toHaveLength(4);
    // Session cost, summed exactly (as floats these costs add up to 0.8009999999999999).
    expect(html).toContain('<li>cost<b>$0.801</b></li>');
  });

  it('defaults to <session>.html in the working directory and can write to stdout', async () => {
    const cap = captureIo({}, out);
    expect(await runCli(['report', path.join(dir.dir, 'mixed.jsonl'), '--json'], cap.io)).toBe(0);
    expect(JSON.parse(cap.out)).toEqual({ file: path.join(out, 'mixed.html'), turns: 4 });
    expect(existsSync(path.join(out, 'mixed.html'))).toBe(true);
    const stdout = captureIo();
    expect(await runCli(['report', path.join(dir.dir, 'mixed.jsonl'), '-o', '-'], stdout.io)).toBe(0);
    expect(stdout.out.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  // Skipped only on a developer machine without chromium: under CI (which runs
  // scripts/install-chromium.sh first) or MOA_REQUIRE_CHROMIUM=1 a missing browser fails.
  const required = Boolean(process.env.CI) || process.env.MOA_REQUIRE_CHROMIUM === '1';
  describe.skipIf(!existsSync(CHROMIUM) && !required)('in headless Chromium', () => {
    let browser: BrowserContext;
    let profile: string;
    beforeAll(async () => {
      profile = mkdtempSync(path.join(tmpdir(), 'moa-chromium-'));
      // A fresh user-data-dir per run (playwright wants it as the persistent-context path).
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1400, height: 1000 },
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync'],
      });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      rmSync(profile, { recursive: true, force: true });
    });

    it('renders every turn from file:// without console errors or network, and takes a screenshot', async () => {
      const file = path.join(out, 'browser.html');
      expect(await runCli(['report', path.join(dir.dir, 'mixed.jsonl'), '-o', file], captureIo().io)).toBe(0);
      const page = await browser.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(e.message));
      page.on('request', (r) => { if (!r.url().startsWith('file://')) requests.push(r.url()); });
      await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });

      expect(await page.locator('section.turn').count()).toBe(4);
      expect(await page.locator('section.turn svg.waterfall').count()).toBe(4);
      expect(await page.locator('section.turn').nth(1).locator('article.call').count()).toBe(2);
      expect(await page.locator('header + main > div.charts figure.chart svg').count()).toBe(2);
      expect(await page.locator('#session-totals').innerText()).toContain('$0.801');
      // the hostile strings are text, not markup
      expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
      expect(await page.locator('section#turn-4 article.call').first().locator('pre.output').innerText()).toBe(HOSTILE);
      // exact input messages are collapsed until opened
      const details = page.locator('section#turn-4 article.aggregator details.inputs');
      expect(await details.getAttribute('open')).toBeNull();
      await details.locator('summary').click();
      expect(await details.locator('pre').first().innerText()).toBe(HOSTILE);
      // A run shown earlier is one line; its link opens the earlier (collapsed) list on that message.
      const second = page.locator('#t3-ref1');
      await second.locator('summary').click();
      expect(await second.locator('p.same').innerText()).toBe('messages 1–2 as in turn 3 · reference 0');
      expect(await page.locator('#t3-ref0').getAttribute('open')).toBeNull();
      await second.locator('p.same a').click();
      expect(page.url().endsWith('#t3-ref0-m1')).toBe(true);
      expect(await page.locator('#t3-ref0').getAttribute('open')).not.toBeNull();
      expect(await page.locator('#t3-ref0-m1').isVisible()).toBe(true);
      expect(problems).toEqual([]);
      expect(requests).toEqual([]);
      const shot = path.join(process.env.MOA_REPORT_SCREENSHOT_DIR ?? out, 'report-screenshot.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      await page.close();
    });
  });
});
