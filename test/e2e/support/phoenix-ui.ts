/**
 * Phoenix's own UI in headless Chromium (Debian's, installed by
 * scripts/install-chromium.sh; driven by playwright-core): what a person
 * sees in its trace list and span panels. Every wait is on a selector with a
 * generous timeout — Phoenix renders skeletons first and fills them from
 * GraphQL on two busy cores.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Skipped only on a developer machine without chromium: under CI (which installs it first) or MOA_REQUIRE_CHROMIUM=1 a missing browser fails. */
export const CHROMIUM_MISSING = !existsSync(CHROMIUM) && !process.env.CI && process.env.MOA_REQUIRE_CHROMIUM !== '1';

export const UI_TIMEOUT_MS = 60_000;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/**
 * Where screenshots go: MOA_E2E_SCREENSHOT_DIR, else a fresh temp dir that the
 * test leaves in place so the printed paths can be opened afterwards.
 */
export async function screenshotDir(): Promise<string> {
  return process.env.MOA_E2E_SCREENSHOT_DIR ?? mkdtemp(join(tmpdir(), 'moa-e2e-phoenix-ui-'));
}

export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path });
  process.stderr.write(`[e2e] Phoenix screenshot: ${path}\n`);
  return path;
}

/** The id Phoenix's UI routes a project by (a GraphQL global id), from its GraphQL API. */
export async function phoenixProjectId(phoenixUrl: string, name = 'default'): Promise<string> {
  const response = await fetch(`${phoenixUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query { projects(first: 50) { edges { node { id name } } } }' }),
  });
  if (!response.ok) throw new Error(`Phoenix GraphQL answered ${response.status}`);
  const body = (await response.json()) as { data?: { projects: { edges: Array<{ node: { id: string; name: string } }> } } };
  const id = body.data?.projects.edges.find((e) => e.node.name === name)?.node.id;
  if (!id) throw new Error(`Phoenix has no project ${name}`);
  return id;
}

/** Opens the project's Traces tab: one row per trace, titled by its root span's name. */
export async function openTraceList(page: Page, phoenixUrl: string, projectId: string): Promise<void> {
  await page.goto(`${phoenixUrl}/projects/${encodeURIComponent(projectId)}/traces`);
  await page.getByRole('tab', { name: 'Traces', selected: true }).waitFor({ timeout: UI_TIMEOUT_MS });
}

/** The trace list's rows whose text contains `text` (a root span's name). */
export function traceRows(page: Page, text: string): Locator {
  return page.getByRole('row').filter({ hasText: text });
}

/** Drags a column's resize handle in the trace list (`column`: its id, e.g. `name`), as a person widens a column whose text is cut. */
export async function widenColumn(page: Page, column: string, byPx: number): Promise<void> {
  const handle = page.locator(`th[data-column-id="${column}"] .resizer`);
  const box = await handle.boundingBox({ timeout: UI_TIMEOUT_MS });
  if (!box) throw new Error(`the ${column} column has no resize handle on screen`);
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + byPx, y, { steps: 10 });
  await page.mouse.up();
}

/** Whether the element's text is cut on screen (an ellipsis hides the rest). */
export function textIsCut(element: Locator): Promise<boolean> {
  return element.evaluate((e) => e.scrollWidth > e.clientWidth + 1);
}

/** Selects a span in the open trace's tree by its name and shows the tab named `tab` of its panel. */
export async function openSpanTab(page: Page, spanName: string, tab: 'Info' | 'Attributes' | 'Events'): Promise<Locator> {
  // The tree lists each span by its name (callers read keys only the chosen span has, so a panel still showing the last one is never mistaken for it).
  await page.getByTestId('trace-tree').getByText(spanName, { exact: true }).first().click({ timeout: UI_TIMEOUT_MS });
  const tabButton = page.getByRole('tab', { name: new RegExp(`^${tab}`) });
  await tabButton.click({ timeout: UI_TIMEOUT_MS });
  const panel = page.getByRole('tabpanel', { name: new RegExp(`^${tab}`) });
  await panel.waitFor({ timeout: UI_TIMEOUT_MS });
  return panel;
}

/** The value the Attributes panel's table shows for `key` (its key cell matched exactly). */
export async function attributeShown(panel: Locator, key: string): Promise<string> {
  const row = panel.locator('tr').filter({ has: panel.page().locator('.json-table__key', { hasText: new RegExp(`^${escapeRegExp(key)}$`) }) });
  await row.first().waitFor({ timeout: UI_TIMEOUT_MS });
  return (await row.first().locator('td').nth(1).innerText()).trim();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
