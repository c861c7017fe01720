/**
 * Output that looks like HTML stays text: a streamed answer (through the same renderer as model
 * output, via the page's test hook) and a prompt containing `<img src=x onerror=...>` show the
 * characters, create no element, and run nothing.
 */
import { expect, test } from '@playwright/test';
import { openDemo, resetServer, shot } from './helpers.js';

const PAYLOAD = '<img src=x onerror="window.__xss=(window.__xss||0)+1">';

test('model output containing <img onerror> is shown as text and runs nothing', async ({ page, request }) => {
  await resetServer(request);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await openDemo(page, '?backend=wasm');
  const pieces = ['Behold ', '<img src=x ', 'onerror="window.__xss=(window.__xss||0)+1">', ' <script>window.__xss=99</script>', ' and <b>bold</b>'];
  await page.evaluate((p) => (globalThis as unknown as { bitnetDemo: { injectOutput(p: string[], prompt: string): Promise<string> } }).bitnetDemo.injectOutput(p, '<img src=x onerror=alert(1)>'), pieces);
  const answer = page.locator('#conversation li.msg.assistant').last();
  await expect(answer).toHaveAttribute('data-state', 'done');
  await expect(answer.locator('.text')).toHaveText(pieces.join(''));
  await expect(page.locator('#conversation li.msg.user').last().locator('.text')).toHaveText('<img src=x onerror=alert(1)>');
  // Real model output with the same payload typed as a prompt: the prompt bubble is text too.
  await page.fill('#prompt', PAYLOAD);
  await page.fill('#max-tokens', '3');
  await page.click('#send');
  await expect(page.locator('#conversation li.msg.assistant').last()).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await page.waitForTimeout(300);
  expect(await page.locator('#conversation img, #conversation script, #conversation b').count()).toBe(0);
  expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss ?? 0)).toBe(0);
  expect(dialogs).toEqual([]);
  await shot(page, '09-output-as-text');
});
