/**
 * wasm path in a Chromium without a WebGPU adapter (project `chromium-no-webgpu`): `auto` falls to wasm and
 * says why WebGPU was skipped; with cross-origin isolation the wasm threads are usable, without it
 * (`?coi=0`) they are off, the page says so with the fix, and the text is the same either way.
 */
import { expect, test } from '@playwright/test';
import { PROMPT, ask, chosenBackend, openDemo, referenceText, resetServer, shot, watchConsole } from './helpers.js';

const MAX_TOKENS = 12;

test.beforeEach(async ({ request }) => resetServer(request));

test('wasm with threads (cross-origin isolated), WebGPU unavailable', async ({ page }) => {
  const errors = watchConsole(page);
  const ref = referenceText(PROMPT, MAX_TOKENS);
  await openDemo(page, '');
  // Without --enable-unsafe-webgpu this Chromium has navigator.gpu but no adapter (like a blocklisted GPU).
  expect(await page.evaluate(async () => ({ adapter: !!(await navigator.gpu?.requestAdapter()), coi: crossOriginIsolated }))).toEqual({ adapter: false, coi: true });
  expect(await chosenBackend(page)).toBe('wasm');
  await expect(page.locator('#selection tr[data-candidate=webgpu]')).toHaveAttribute('data-status', 'skipped');
  await expect(page.locator('#cap-webgpu')).toHaveAttribute('data-available', 'false');
  await expect(page.locator('#cap-coi')).toHaveAttribute('data-value', 'true');
  await expect(page.locator('#cap-threads')).toHaveAttribute('data-usable', 'true');
  await expect(page.locator('#warnings li[data-code=THREADS_DISABLED]')).toHaveCount(0);
  const text = await ask(page, PROMPT, MAX_TOKENS);
  expect(text).toBe((await ref).text);
  await shot(page, '04-wasm-threads');
  expect(errors).toEqual([]);
});

test('wasm without cross-origin isolation (threads off) says why and gives the same text', async ({ page }) => {
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  const ref = referenceText(PROMPT, MAX_TOKENS);
  await openDemo(page, '?coi=0');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
  expect(await chosenBackend(page)).toBe('wasm');
  await expect(page.locator('#cap-coi')).toHaveAttribute('data-value', 'false');
  await expect(page.locator('#cap-threads')).toHaveAttribute('data-usable', 'false');
  await expect(page.locator('#coi-badge')).toHaveAttribute('data-value', 'false');
  await expect(page.locator('#warnings li[data-code=THREADS_DISABLED]')).toContainText('Cross-Origin-Opener-Policy');
  const text = await ask(page, PROMPT, MAX_TOKENS);
  expect(text).toBe((await ref).text);
  await shot(page, '05-wasm-no-isolation');
  // The engine names the fix once in the console.
  expect(warnings.filter((w) => w.includes('Cross-Origin-Embedder-Policy')).length).toBe(1);
});
