/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the
 * built server. The page goes live under its Content-Security-Policy with nothing blocked and
 * nothing fetched from elsewhere, and shows clients that connect and leave, by transport.
 * Where Chromium is not installed (`apt-get install chromium`), this test says so and skips.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { MessageType } from '../../src/protocol/frame.js';
import { RawClient } from '../support/net.js';
import { FAST, killAll, spawnServer } from '../support/process.js';

const CHROMIUM = '/usr/bin/chromium';
/** Without these, Chromium keeps trying hosts this network refuses. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The page shows a sample a second and polls the connections every five: a few of each. */
const PAGE_WAIT_MS = 15_000;

/**
 * The little of the DOM that the callbacks below use. They run in the page; this file is
 * compiled without the DOM's types, which are the page's business (src/monitor/page/).
 */
interface PageElement {
  readonly textContent: string | null;
  readonly dataset: Readonly<Record<string, string | undefined>>;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
}
declare const document: {
  getElementById(id: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
};

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await killAll();
});

/** Resolves once the element `id` shows `expected`; fails saying what it shows instead. */
async function waitForText(page: Page, id: string, expected: string): Promise<void> {
  try {
    await page.waitForFunction(([id, expected]) => document.getElementById(id)?.textContent === expected, [id, expected] as const, { timeout: PAGE_WAIT_MS });
  } catch {
    const shown = await page.evaluate((id) => document.getElementById(id)?.textContent ?? '(no such element)', id);
    assert.fail(`#${id} shows '${shown}', not '${expected}'`);
  }
}

/** The rows of the connections table: transport and address as the page shows them. */
function connectionRows(page: Page): Promise<{ transport: string; cells: string[] }[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('#connections tbody tr')].map((row) => ({ transport: row.dataset['transport'] ?? '', cells: [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '') })),
  );
}

async function waitForRows(page: Page, count: number): Promise<void> {
  await page.waitForFunction((count) => document.querySelectorAll('#connections tbody tr').length === count, count, { timeout: PAGE_WAIT_MS });
}

test('the dashboard shows clients that connect and leave, by transport', { skip: existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (apt-get install chromium): the browser test is skipped` }, async (t) => {
  const server = spawnServer(['127.0.0.1', '0', 'quiet', '--metrics', '127.0.0.1:0', ...FAST]);
  const port = Number((await server.waitForLine(/^listening on \('127\.0\.0\.1', (\d+)\)$/))[1]);
  const [, origin = ''] = await server.waitForLine(/^metrics on (http:\/\/\S+)\/metrics$/);

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 1200 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // A CSP violation, a failed load or a script error shows up here.
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    if (!request.url().startsWith(`${origin}/`)) problems.push(`a request elsewhere: ${request.url()}`);
  });

  await page.goto(`${origin}/`);
  await waitForText(page, 'status', 'live');
  await waitForText(page, 'clients', '0');
  await waitForText(page, 'clients-tcp', 'TCP 0');

  const first = await RawClient.connect(port);
  const second = await RawClient.connect(port);
  await Promise.all([first, second].map((client) => client.nextFrame(MessageType.symbols)));
  await waitForText(page, 'clients', '2');
  await waitForText(page, 'clients-tcp', 'TCP 2');
  await waitForText(page, 'clients-ws', 'WebSocket 0');
  await waitForRows(page, 2);
  const rows = await connectionRows(page);
  assert.deepEqual(rows.map((row) => row.transport), ['tcp', 'tcp']);
  assert.deepEqual(rows.map((row) => row.cells[2]), [`127.0.0.1:${first.localPort}`, `127.0.0.1:${second.localPort}`], 'each client, by its address, oldest first');
  assert.deepEqual(rows.map((row) => row.cells[1]), ['TCP', 'TCP']);

  first.destroy();
  await waitForText(page, 'clients', '1');
  await waitForText(page, 'clients-tcp', 'TCP 1');
  await waitForRows(page, 1);
  assert.equal((await connectionRows(page))[0]?.cells[2], `127.0.0.1:${second.localPort}`, 'the one that left is gone from the list');
  assert.ok((await page.locator('.chart canvas').count()) >= 6, 'every chart is drawn');

  const screenshot = join(tmpdir(), 'multi-socket-dashboard.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  t.diagnostic(`screenshot: ${screenshot}`);
  assert.deepEqual(problems, [], 'nothing blocked, failed or fetched from elsewhere');

  second.destroy();
  server.kill('SIGTERM');
  assert.deepEqual(await server.waitForExit(), { code: 0, signal: null }, server.describe());
});
