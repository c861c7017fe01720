/**
 * Abort in the middle of a stream: the Stop button cancels the request (no more text arrives, the
 * answer is marked stopped) and the next request runs normally and gives the reference text.
 */
import { expect, test } from '@playwright/test';
import { PROMPT, ask, openDemo, referenceText, resetServer, shot } from './helpers.js';

test('abort mid-stream stops it and the next request works', async ({ page, request }) => {
  await resetServer(request);
  const ref = referenceText(PROMPT, 6);
  await openDemo(page, '?backend=wasm');
  await page.fill('#prompt', 'And God said, Let there be');
  await page.fill('#max-tokens', '400');
  await page.click('#send');
  const answer = page.locator('#conversation li.msg.assistant').first();
  await expect(answer).toHaveAttribute('data-state', 'streaming');
  await expect.poll(async () => Number((await answer.getAttribute('data-tokens')) ?? 0), { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
  await page.click('#stop');
  await expect(answer).toHaveAttribute('data-state', 'aborted');
  const tokens = Number(await answer.getAttribute('data-tokens'));
  const text = await answer.locator('.text').textContent();
  expect(tokens).toBeLessThan(400);
  await shot(page, '08-aborted');
  // Nothing more arrives after the stop.
  await page.waitForTimeout(1500);
  expect(await answer.locator('.text').textContent()).toBe(text);
  expect(Number(await answer.getAttribute('data-tokens'))).toBe(tokens);
  // The engine cancelled it and serves the next request.
  expect(await ask(page, PROMPT, 6)).toBe((await ref).text);
  const m = await page.evaluate(async () => {
    const demo = (globalThis as unknown as { bitnetDemo: { host: { state: { engine: { metrics(): Promise<{ requests: { cancelled: number; active: number } }> } } } } }).bitnetDemo;
    return (await demo.host.state.engine.metrics()).requests;
  });
  expect(m.cancelled).toBeGreaterThanOrEqual(1);
  expect(m.active).toBe(0);
});
