/**
 * The report's insights section: the same numbers as `insights --json` over
 * the same file, the incomplete-spend notice, two accessible inline charts;
 * checked as HTML and in headless Chromium (with a screenshot).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { InsightsDocument } from '../../src/offline/insights/document.js';
import { referenceCells } from '../../src/offline/insights/render.js';
import { captureIo } from './fixtures.js';
import { generateCorpus } from './insights/corpus.js';

const CHROMIUM = '/usr/bin/chromium';

let dir: string;
let traces: string;

async function insightsJson(file: string): Promise<InsightsDocument> {
  const cap = captureIo();
  expect(await runCli(['insights', file, '--json'], cap.io)).toBe(0);
  return JSON.parse(cap.out) as InsightsDocument;
}

async function report(file: string, out: string): Promise<string> {
  const cap = captureIo();
  expect(await runCli(['report', file, '-o', out], cap.io)).toBe(0);
  return readFileSync(out, 'utf8');
}

/** The text between `<tag ...data-value="...">` and its end tag, per cell of a row, with the raw value. */
function rowCells(html: string, key: string): { value: string | null; text: string }[] {
  const row = html.match(new RegExp(`<tr class="verdict-[a-z_]+" data-key="${key.replace(/[/]/g, '\\/')}">(.*?)</tr>`))?.[1];
  expect(row, `row ${key}`).toBeDefined();
  return [...(row as string).matchAll(/<t[hd][^>]*?(?: data-value="([^"]*)")?>(.*?)<\/t[hd]>/g)].map((m) => ({ value: m[1] ?? null, text: m[2] as string }));
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'moa-report-insights-'));
  traces = path.join(dir, 'traces');
  generateCorpus(traces);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('report: insights section', () => {
  it('shows the insights --json numbers for the same file, row by row, and the verdict order', async () => {
    const file = path.join(traces, 'research-1.jsonl');
    const doc = await insightsJson(file);
    const html = await report(file, path.join(dir, 'research-1.html'));
    expect(html).toContain('<section class="insights" id="insights"');
    expect(doc.references.map((r) => r.key)).toEqual(
      [...html.matchAll(/<tr class="verdict-([a-z_]+)" data-key="([^"]+)">/g)].map((m) => m[2]),
    );
    for (const r of doc.references) {
      const cells = rowCells(html, r.key);
      // the text is what the terminal prints, the raw value is the JSON's
      expect(cells.map((c) => c.text)).toEqual(referenceCells(r));
      const raw = [r.verdict, r.key, r.calls, r.failures, r.cost_usd, r.cost_share, r.latency_ms.p50, r.latency_ms.p95,
        r.straggler_share, r.wait_added_ms.p50, r.agreement, r.unique_contribution, r.saving_per_1000_turns_usd];
      expect(cells.slice(1).map((c) => c.value)).toEqual(raw.slice(1).map((v) => (v === null ? '' : String(v))));
    }
    expect(html).toContain(`data-recorded-usd="${doc.spend.recorded_usd}"`);
    expect(html).toMatch(/<b class="verdict drop_candidate">drop_candidate<\/b> <code>research\/d:stray<\/code>/);
    // complete spend: no notice
    expect(doc.spend.complete).toBe(true);
    expect(html).not.toContain('id="insights-spend-notice"');
  });

  it('says the spend may be incomplete when iterations were not written', async () => {
    const file = path.join(traces, 'coding-2.jsonl');
    const doc = await insightsJson(file);
    expect(doc.spend.complete).toBe(false);
    const html = await report(file, path.join(dir, 'coding-2.html'));
    expect(html).toContain(`<p class="notice" role="note" id="insights-spend-notice">${doc.spend.note}</p>`);
    expect(html).toContain('(possibly incomplete)');
    expect(html).toMatch(/<tr data-preset="coding">.*\(incomplete\)/);
  });

  it("a session file's section equals insights --session over the whole directory", async () => {
    const cap = captureIo();
    expect(await runCli(['insights', traces, '--session', 'coding-1', '--json'], cap.io)).toBe(0);
    const doc = JSON.parse(cap.out) as InsightsDocument;
    const html = await report(path.join(traces, 'coding-1.jsonl'), path.join(dir, 'coding-1.html'));
    expect(html).toContain(`data-recorded-usd="${doc.spend.recorded_usd}"`);
    expect(html).not.toContain('research/');
  });

  const required = Boolean(process.env.CI) || process.env.MOA_REQUIRE_CHROMIUM === '1';
  describe.skipIf(!existsSync(CHROMIUM) && !required)('in headless Chromium', () => {
    let browser: BrowserContext;
    let profile: string;
    beforeAll(async () => {
      profile = mkdtempSync(path.join(tmpdir(), 'moa-chromium-'));
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

    it('renders the tables, the notice and two labelled charts whose bars match the document', async () => {
      const file = path.join(traces, 'coding-2.jsonl');
      const doc = await insightsJson(file);
      const out = path.join(dir, 'coding-2-browser.html');
      await report(file, out);
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(e.message));
      await page.goto(pathToFileURL(out).href, { waitUntil: 'load' });

      const section = page.locator('section#insights');
      expect(await section.locator('#insights-spend-notice').innerText()).toBe(doc.spend.note);
      const rows = section.locator('#insights-references tbody tr');
      expect(await rows.count()).toBe(doc.references.length);
      for (const [i, r] of doc.references.entries()) {
        const texts = await rows.nth(i).locator('th, td').allInnerTexts();
        expect(texts.map((t) => t.trim())).toEqual(referenceCells(r));
      }
      // the charts: one group per slot, bar width = share × track, accessible name and description
      for (const id of ['insights-cost-vs-unique', 'insights-stragglers']) {
        const svg = section.locator(`#${id} svg`);
        expect(await svg.getAttribute('role')).toBe('img');
        expect(await page.locator(`#${id}-title`).textContent()).toBeTruthy();
        expect(await svg.locator('g.slot').count()).toBe(doc.references.length);
      }
      const track = 400;
      for (const r of doc.references) {
        const g = section.locator(`#insights-cost-vs-unique g.slot[data-key="${r.key}"]`);
        const [cost, unique] = await g.locator('rect').evaluateAll((els) => els.map((e) => Number(e.getAttribute('width'))));
        expect(cost).toBeCloseTo((r.cost_share ?? 0) * track, 0);
        expect(unique).toBeCloseTo((r.unique_contribution ?? 0) * track, 0);
        const straggler = await section.locator(`#insights-stragglers g.slot[data-key="${r.key}"] rect`).getAttribute('width');
        expect(Number(straggler)).toBeCloseTo((r.straggler_share ?? 0) * track, 0);
      }
      const slow = doc.references.find((r) => r.key === 'coding/e:slow');
      expect(slow?.straggler_share).toBe(1);
      expect(await section.locator('#insights-stragglers desc').textContent()).toContain('coding/e:slow: finished last in 100% of turns');
      expect(problems).toEqual([]);
      const shot = path.join(process.env.MOA_REPORT_SCREENSHOT_DIR ?? dir, 'report-insights.png');
      await section.screenshot({ path: shot });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      await page.close();
    }, 60_000);
  });
});
