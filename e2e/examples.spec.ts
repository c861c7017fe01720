/**
 * The examples generate text in the browser: the plain-HTML page on the script-tag (IIFE) build
 * with its global `BitNet`, and the React app on `useBitNet` (in StrictMode, loading the model once).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { LOAD_TIMEOUT, MODEL_FILE, PROMPT, isModelFile, referenceText, resetServer, servedModel, serverLog, shot, watchConsole } from './helpers.js';

const IIFE = fileURLToPath(new URL('../dist/browser/bitnet.js', import.meta.url));

test.beforeEach(async ({ request }) => resetServer(request));

test('script-tag example (global BitNet, no bundler) generates text', async ({ page }) => {
  test.skip(!existsSync(IIFE), 'dist/browser/bitnet.js is not built (the library needs a build:browser script)');
  const errors = watchConsole(page);
  const ref = referenceText(PROMPT, 24, MODEL_FILE); // the page loads the same file (/models/)
  await page.goto('/examples/script-tag/', { waitUntil: 'commit' });
  await expect(page.locator('#status')).toHaveAttribute('data-status', /^(ready|error)$/, { timeout: LOAD_TIMEOUT });
  expect(await page.locator('#status').getAttribute('data-status'), (await page.locator('#status').textContent()) ?? '').toBe('ready');
  expect(await page.evaluate(() => typeof (globalThis as unknown as { BitNet?: { createEngine?: unknown } }).BitNet?.createEngine)).toBe('function');
  await page.click('#go');
  await expect(page.locator('#status')).toHaveAttribute('data-status', /^(done|error)$/, { timeout: LOAD_TIMEOUT });
  expect(await page.locator('#status').getAttribute('data-status'), (await page.locator('#status').textContent()) ?? '').toBe('done');
  expect(await page.locator('#output').textContent()).toBe((await ref).text);
  await shot(page, '12-example-script-tag');
  expect(errors).toEqual([]);
});

test('React example (useBitNet) generates text', async ({ page, request }) => {
  const errors = watchConsole(page);
  const ref = referenceText(PROMPT, 24, servedModel('examples/react/dist'));
  await page.goto('/examples/react/', { waitUntil: 'commit' });
  const status = page.getByTestId('status');
  await expect(status).toHaveAttribute('data-status', /^(ready|error)$/, { timeout: LOAD_TIMEOUT });
  expect(await status.getAttribute('data-status'), (await status.textContent()) ?? '').toBe('ready');
  // StrictMode mounts twice; the hook must still load the model once.
  const modelGets = (await serverLog(request)).filter((e) => isModelFile(e.path) && e.method === 'GET' && e.bytes > 0);
  expect(modelGets.length, JSON.stringify(modelGets)).toBe(1);
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('output')).not.toBeEmpty({ timeout: LOAD_TIMEOUT });
  await expect(status).toHaveAttribute('data-status', 'ready', { timeout: LOAD_TIMEOUT });
  expect(await page.getByTestId('output').textContent()).toBe((await ref).text);
  await shot(page, '13-example-react');
  expect(errors).toEqual([]);
});
