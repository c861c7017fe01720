/**
 * Result cache (semantic-cache issue): a repeated greedy prompt is answered from the cache and the
 * answer carries the "cached" marker. The engine does not have a result cache yet, so the test is
 * `fixme` until it lands; remove the fixme line then.
 */
import { expect, test } from '@playwright/test';
import { PROMPT, ask, openDemo, resetServer, shot } from './helpers.js';

test('the result cache answers a repeated prompt and the marker shows', async ({ page, request }) => {
  test.fixme(true, 'needs the result cache of issue 7 (results marked with `cached`); the demo already shows the marker when a result has it');
  await resetServer(request);
  await openDemo(page, '?backend=wasm');
  const first = await ask(page, PROMPT, 8);
  const answers = page.locator('#conversation li.msg.assistant');
  await expect(answers.nth(0)).not.toHaveAttribute('data-cached', /.+/);
  const second = await ask(page, PROMPT, 8);
  expect(second).toBe(first);
  await expect(answers.nth(1)).toHaveAttribute('data-cached', 'exact');
  await expect(answers.nth(1).locator('.cached-marker')).toBeVisible();
  await shot(page, '10-result-cache-hit');
  // Survives a reload (IndexedDB).
  await page.reload();
  await openDemo(page, '?backend=wasm');
  await ask(page, PROMPT, 8);
  await expect(page.locator('#conversation li.msg.assistant').last()).toHaveAttribute('data-cached', 'exact');
});
