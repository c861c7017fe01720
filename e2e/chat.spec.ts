/**
 * The chat view and the batch control on one loaded page (wasm backend, the model loads once for
 * the file): output that looks like HTML stays text and runs nothing; Stop cancels a stream in the
 * middle and the next request works; "run N prompts at once" finishes every request with its solo
 * greedy text; the result cache answers a repeat with a visible marker, and again after a reload
 * (IndexedDB) without the model computing anything.
 */
import { expect, test, type Page } from '@playwright/test';
import { LOAD_TIMEOUT, PROMPT, ask, openDemo, referenceText, resetServer, shot } from './helpers.js';

let page: Page;
const dialogs: string[] = [];

test.beforeAll(async ({ browser, request }, info) => {
  await resetServer(request);
  const context = await browser.newContext({ baseURL: info.project.use.baseURL, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await openDemo(page, '?backend=wasm');
});

test.afterAll(async () => {
  await page?.context().close();
});

type DemoHook = { bitnetDemo: { injectOutput(p: readonly string[], prompt: string): Promise<string> } };

test('model output containing <img onerror> is shown as text and runs nothing', async () => {
  const pieces = ['Behold ', '<img src=x ', 'onerror="window.__xss=(window.__xss||0)+1">', ' <script>window.__xss=99</script>', ' and <b>bold</b>'];
  // The page's test hook streams these pieces through the same renderer as model output.
  await page.evaluate((p) => (globalThis as unknown as DemoHook).bitnetDemo.injectOutput(p, '<img src=x onerror=alert(1)>'), pieces);
  const answer = page.locator('#conversation li.msg.assistant').last();
  await expect(answer).toHaveAttribute('data-state', 'done');
  await expect(answer.locator('.text')).toHaveText(pieces.join(''));
  await expect(page.locator('#conversation li.msg.user').last().locator('.text')).toHaveText('<img src=x onerror=alert(1)>');
  // A real model answer to a prompt carrying the payload: prompt and answer are text too.
  await ask(page, '<img src=x onerror="window.__xss=1"> In the beginning', 3);
  await page.waitForTimeout(200);
  expect(await page.locator('#conversation img, #conversation script, #conversation b').count()).toBe(0);
  expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss ?? 0)).toBe(0);
  expect(dialogs).toEqual([]);
  await shot(page, '09-output-as-text');
});

test('abort mid-stream stops it and the next request works', async () => {
  const ref = referenceText(PROMPT, 6);
  await page.click('#clear-chat');
  await page.fill('#prompt', 'And God said, Let there be');
  await page.fill('#max-tokens', '240');
  // Press Stop from inside the page as soon as 3 tokens are shown (no round trip to the test).
  await page.evaluate(() => {
    const list = document.querySelector('#conversation')!;
    const obs = new MutationObserver(() => {
      const a = list.querySelector<HTMLElement>('li.msg.assistant[data-state=streaming]');
      if (a && Number(a.dataset.tokens ?? 0) >= 3) {
        obs.disconnect();
        document.querySelector<HTMLButtonElement>('#stop')!.click();
      }
    });
    obs.observe(list, { subtree: true, attributes: true, childList: true, characterData: true });
  });
  await page.click('#send');
  const answer = page.locator('#conversation li.msg.assistant').first();
  await expect(answer).toHaveAttribute('data-state', /^(aborted|done|error)$/, { timeout: LOAD_TIMEOUT });
  expect(await answer.getAttribute('data-state'), await answer.locator('.meta').textContent() ?? '').toBe('aborted');
  const tokens = Number(await answer.getAttribute('data-tokens'));
  const text = await answer.locator('.text').textContent();
  expect(tokens).toBeGreaterThanOrEqual(3);
  expect(tokens).toBeLessThan(240);
  await expect(answer.locator('.meta')).toContainText('stopped');
  await shot(page, '08-aborted');
  // Nothing more arrives after the stop.
  await page.waitForTimeout(1000);
  expect(await answer.locator('.text').textContent()).toBe(text);
  // The engine cancelled it and serves the next request.
  expect(await ask(page, PROMPT, 6)).toBe((await ref).text);
  const m = await page.evaluate(async () => {
    const demo = (globalThis as unknown as { bitnetDemo: { host: { state: { engine: { metrics(): Promise<{ requests: { cancelled: number; active: number } }> } } } } }).bitnetDemo;
    return (await demo.host.state.engine.metrics()).requests;
  });
  expect(m.cancelled).toBeGreaterThanOrEqual(1);
  expect(m.active).toBe(0);
});

test('run 4 prompts at once: each finishes with its solo greedy text, throughput reported', async () => {
  await page.fill('#batch-n', '4');
  await page.fill('#batch-max', '6');
  await page.click('#batch-run');
  await expect(page.locator('#batch-panel')).toHaveAttribute('data-state', 'done', { timeout: LOAD_TIMEOUT });
  const items = page.locator('#batch-outputs li');
  await expect(items).toHaveCount(4);
  await expect(page.locator('#batch-outputs li[data-state=done]')).toHaveCount(4);
  const prompts = await items.locator('.prompt').allTextContents();
  const refs = await Promise.all(prompts.map((p) => referenceText(p, 6)));
  expect(await items.locator('.text').allTextContents()).toEqual(refs.map((r) => r.text));
  await expect(page.locator('#batch-summary')).toContainText('tokens/s aggregate');
  await expect(page.locator('#batch-history tbody tr')).toHaveCount(1);
  await shot(page, '10-batch-and-metrics');
});

test('the result cache answers a repeated prompt and the marker shows', async () => {
  await page.click('#clear-chat');
  const first = await ask(page, PROMPT, 8);
  const answers = page.locator('#conversation li.msg.assistant');
  await expect(answers.nth(0)).not.toHaveAttribute('data-cached', /.+/);
  expect(await ask(page, PROMPT, 8)).toBe(first);
  await expect(answers.nth(1)).toHaveAttribute('data-cached', 'exact');
  await expect(answers.nth(1).locator('.cached-marker')).toBeVisible();
  // The cache manager lists the stored answer without a manual refresh.
  await expect(page.locator('#cache-results .results-list li').first()).toBeVisible();
  await shot(page, '11-result-cache-hit');
  // The cache survives a reload (IndexedDB) and answers again, without the model computing anything.
  await openDemo(page, '?backend=wasm');
  expect(await ask(page, PROMPT, 8)).toBe(first);
  await expect(page.locator('#conversation li.msg.assistant').last()).toHaveAttribute('data-cached', 'exact');
  const m = await page.evaluate(async () => {
    const demo = (globalThis as unknown as { bitnetDemo: { host: { state: { engine: { metrics(): Promise<{ requests: { completed: number }; resultCache: { exactHits: number } | null }> } } } } }).bitnetDemo;
    return demo.host.state.engine.metrics();
  });
  expect(m.requests.completed).toBe(0);
  expect(m.resultCache?.exactHits).toBe(1);
});
