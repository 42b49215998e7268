/**
 * The browser client in a real browser: Debian's Chromium driven by playwright-core (which ships
 * no browser of its own). The page's WebSocket frames are also read by the test itself, through
 * the browser's own record of them, so the symbols are counted independently of what the page
 * shows.
 *
 * Where Chromium is not installed (`apt-get install chromium`), these tests say so and skip.
 * With SCREENSHOTS=DIR they leave pictures of the page in DIR (the README's come from here).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { decodeWholeFrame } from '../../src/protocol/decoder.js';
import { MessageType, SERVER_HEADER_KEYS } from '../../src/protocol/frame.js';
import { messageTypeOf, parseStatistics } from '../../src/protocol/messages.js';
import { killAll, spawnServer } from '../support/process.js';
import { WebTestServer } from '../support/web.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (apt-get install chromium): the browser tests are skipped`;
if (missing !== false) console.log(`# ${missing}`);
const SCREENSHOTS = process.env['SCREENSHOTS'];
const WAIT_MS = 8_000;

/** What the test saw on the page's WebSocket, frame by frame, as the browser received it. */
interface Seen {
  symbolsSinceAnswer: number;
  readonly answers: { reported: number; counted: number }[];
  frames: number;
}

/** Counts every frame the page receives (the test's own count, not the page's). */
function watchFrames(page: Page): Seen {
  const seen: Seen = { symbolsSinceAnswer: 0, answers: [], frames: 0 };
  page.on('websocket', (socket) => {
    socket.on('framereceived', ({ payload }) => {
      const frame = decodeWholeFrame(Buffer.from(payload), { maxHeaderLength: 1024, maxContentLength: 1 << 20, requiredKeys: SERVER_HEADER_KEYS });
      seen.frames++;
      const type = messageTypeOf(frame);
      if (type === MessageType.symbols) seen.symbolsSinceAnswer += frame.content.length;
      if (type === MessageType.statistics) {
        seen.answers.push({ reported: parseStatistics(frame.content) ?? Number.NaN, counted: seen.symbolsSinceAnswer });
        seen.symbolsSinceAnswer = 0;
      }
    });
  });
  return seen;
}

async function state(page: Page, wanted: string): Promise<void> {
  await page.waitForSelector(`body[data-state="${wanted}"]`, { timeout: WAIT_MS });
}

/**
 * The page's globals that the test's own functions use. They run in the page (passed as
 * functions: the page's policy forbids evaluating strings), but this program is type-checked
 * for Node, without the DOM's names.
 */
interface PageGlobals {
  readonly document: {
    querySelectorAll(selector: string): ArrayLike<{ readonly textContent: string | null }>;
    readonly documentElement: { readonly scrollWidth: number };
  };
  readonly innerWidth: number;
}

/** Resolves once the page has at least `n` elements matching `selector`. */
async function atLeast(page: Page, selector: string, n: number): Promise<void> {
  await page.waitForFunction(([sel, min]) => (globalThis as unknown as PageGlobals).document.querySelectorAll(sel).length >= min, [selector, n] as const, { timeout: WAIT_MS });
}

function count(page: Page, selector: string): Promise<number> {
  return page.locator(selector).count();
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS !== undefined) await page.screenshot({ path: join(SCREENSHOTS, name) });
}

void describe('the browser client', { skip: missing }, () => {
  let browser: Browser;
  let server: WebTestServer;
  let context: BrowserContext;
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    server = await WebTestServer.start({ interval: { min: 0.05, max: 0.2 } });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    await killAll();
  });

  async function openPage(viewport = { width: 900, height: 640 }, on = server): Promise<{ page: Page; seen: Seen }> {
    await context?.close();
    context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    const seen = watchFrames(page);
    await page.goto(`http://127.0.0.1:${on.webPort}/`);
    await state(page, 'open');
    assert.deepEqual(problems, [], 'no script error, nothing the policy blocked');
    return { page, seen };
  }

  void it('shows every chunk as it arrives; `s` gives the exact count, shown beside the page\'s own', async () => {
    const { page, seen } = await openPage();
    await atLeast(page, '#log li.symbols', 4);
    for (let round = 1; round <= 2; round++) {
      await page.keyboard.press('s');
      await atLeast(page, '#log li.statistics', round);
      const answer = seen.answers[round - 1];
      assert.ok(answer !== undefined, 'the test saw the answer frame');
      assert.ok(answer.reported > 0);
      assert.equal(answer.reported, answer.counted, `round ${round}: the server reported ${answer.reported}, the browser received ${answer.counted}`);
      assert.equal(await page.textContent('#reported'), `${answer.reported} symbols`);
      assert.equal(await page.textContent('#match'), `(page counted ${answer.reported}: match)`);
      const lines = await page.locator('#log li.statistics').allTextContents();
      assert.equal(lines.at(-1), `got response: b'Statistics: ${answer.reported} symbols was delivered'`);
      // Chunks after the answer, for the next round to count.
      await atLeast(page, '#log li.symbols', (await count(page, '#log li.symbols')) + 2);
    }
    // Every chunk became a line, in the terminal client's words.
    const shown = await page.locator('#log li.symbols').allTextContents();
    assert.ok(shown.every((line) => /^got response: b(['"]).+\1$/.test(line)), shown.join('\n'));
    await screenshot(page, 'browser-client.png');
  });

  void it('shows symbols such as < & " as text, never as markup', async () => {
    const hostile = await WebTestServer.start({ interval: { min: 0.02, max: 0.05 }, alphabet: '<>&"\'ab' });
    try {
      const { page } = await openPage(undefined, hostile);
      await page.waitForFunction(
        () => Array.from((globalThis as unknown as PageGlobals).document.querySelectorAll('#log li.symbols')).some((li) => /[<&]/.test(li.textContent ?? '')),
        undefined,
        { timeout: WAIT_MS },
      );
      const elementsInLines = await count(page, '#log li *');
      assert.equal(elementsInLines, 0, 'no line holds an element: nothing was parsed as HTML');
      const html = await page.locator('#log').innerHTML();
      assert.match(html, /&lt;|&amp;/);
    } finally {
      await context.close();
      await hostile.stop();
    }
  });

  void it('the buttons do what the keys do: statistics, then close (1000)', async () => {
    const { page, seen } = await openPage();
    await atLeast(page, '#log li.symbols', 2);
    await page.click('#statistics');
    await page.waitForSelector('#log li.statistics', { timeout: WAIT_MS });
    assert.equal(seen.answers[0]?.reported, seen.answers[0]?.counted);
    await page.click('#quit');
    await state(page, 'closed');
    assert.match((await page.textContent('#status')) ?? '', /you closed the connection \(code 1000/);
    assert.ok(await page.isVisible('#reconnect'), 'offers to reconnect');
  });

  void it('`q` closes the connection, and the server sees the client leave', async () => {
    const { page } = await openPage();
    const closedBefore = server.events.filter((event) => event.type === 'closed').length;
    await page.keyboard.press('q');
    await state(page, 'closed');
    await server.waitForEvent('closed', () => server.events.filter((event) => event.type === 'closed').length > closedBefore);
    assert.equal(await page.isDisabled('#statistics'), true);
    await page.keyboard.press('r');
    await state(page, 'open');
  });

  void it('works on a phone-sized screen: nothing wider than the screen, buttons within reach', async () => {
    const { page } = await openPage({ width: 390, height: 780 });
    await atLeast(page, '#log li.symbols', 6);
    const overflow = await page.evaluate(() => {
      const page = globalThis as unknown as PageGlobals;
      return page.document.documentElement.scrollWidth - page.innerWidth;
    });
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    const button = await page.locator('#statistics').boundingBox();
    assert.ok(button !== null && button.height >= 40 && button.x + button.width <= 390, JSON.stringify(button));
    await screenshot(page, 'browser-client-phone.png');
  });
});

void describe('the browser client and the server going away', { skip: missing }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await killAll();
  });

  void it('a server shutdown shows its reason', async () => {
    const server = await WebTestServer.start({ interval: { min: 0.05, max: 0.1 } });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server.webPort}/`);
      await state(page, 'open');
      await server.server.close({ reason: 'server shutting down (SIGTERM)' });
      await state(page, 'closed');
      assert.equal(await page.textContent('#status'), 'the server shut down: server shutting down (SIGTERM) (code 1001: server shutting down (SIGTERM))');
      assert.equal((await page.locator('#log li.shutdown').allTextContents()).at(-1), 'shutdown: server shutting down (SIGTERM)');
    } finally {
      await context.close();
    }
  });

  void it('a lost connection is said, and reconnecting brings the stream back', async () => {
    const start = async (web: string): Promise<{ proc: ReturnType<typeof spawnServer>; port: number }> => {
      const proc = spawnServer(['127.0.0.1', '0', 'quiet', '--web', web, '--interval', '0.05-0.1']);
      const port = Number((await proc.waitForLine(/^web client on http:\/\/127\.0\.0\.1:(\d+)\/$/))[1]);
      return { proc, port };
    };
    const first = await start('0');
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${first.port}/`);
      await state(page, 'open');
      await page.waitForSelector('#log li.symbols', { timeout: WAIT_MS });
      // Gone without a word: no shutdown frame, no close frame.
      first.proc.kill('SIGKILL');
      await state(page, 'lost');
      assert.match((await page.textContent('#status')) ?? '', /^connection lost \(code 1006\)$/);
      assert.ok(await page.isVisible('#reconnect'));
      await screenshot(page, 'browser-client-lost.png');

      const second = await start(String(first.port));
      await page.click('#reconnect');
      await state(page, 'open');
      await atLeast(page, '#log li.symbols', (await count(page, '#log li.symbols')) + 1);
      second.proc.kill('SIGTERM');
      await second.proc.waitForExit();
    } finally {
      await context.close();
    }
  });
});
