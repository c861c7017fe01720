/**
 * "Run N prompts at once": N concurrent requests all finish, each with the same text it gets when
 * run alone (greedy), and the panel reports aggregate throughput and the mean batch size.
 */
import { expect, test } from '@playwright/test';
import { openDemo, referenceText, resetServer, shot } from './helpers.js';

test('run 4 prompts at once: all finish with their solo greedy text, throughput reported', async ({ page, request }) => {
  await resetServer(request);
  await openDemo(page, '?backend=wasm');
  await page.fill('#batch-n', '4');
  await page.fill('#batch-max', '6');
  await page.click('#batch-run');
  await expect(page.locator('#batch-panel')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  const items = page.locator('#batch-outputs li');
  await expect(items).toHaveCount(4);
  await expect(page.locator('#batch-outputs li[data-state=done]')).toHaveCount(4);
  const prompts = await items.locator('.prompt').allTextContents();
  const refs = await Promise.all(prompts.map((p) => referenceText(p, 6)));
  expect(await items.locator('.text').allTextContents()).toEqual(refs.map((r) => r.text));
  await expect(page.locator('#batch-summary')).toContainText('tokens/s aggregate');
  await expect(page.locator('#batch-history tbody tr')).toHaveCount(1);
  await shot(page, '13-batch');
});
