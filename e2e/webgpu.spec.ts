/**
 * WebGPU path (SwiftShader in headless Chromium): forcing the WebGPU backend, greedy generation on
 * the embedded default model equals the scalar reference backend's text computed in Node. Also
 * takes the screenshots of the loading / ready / answered states.
 */
import { expect, test } from '@playwright/test';
import { LOAD_TIMEOUT, PROMPT, ask, chosenBackend, referenceText, resetServer, setDelay, shot, waitReady, watchConsole } from './helpers.js';

const MAX_TOKENS = 8;

test('WebGPU: greedy generation equals the reference backend', async ({ page, request }) => {
  await resetServer(request);
  const errors = watchConsole(page);
  const ref = referenceText(PROMPT, MAX_TOKENS);
  // Slow the model download down a little so the loading state can be photographed.
  await setDelay(request, 400);
  await page.goto('/?backend=webgpu&chunk=131072', { waitUntil: 'commit' });
  await expect(page.locator('#load-label')).toHaveAttribute('data-phase', /^(download|verify|repack|upload)$/, { timeout: LOAD_TIMEOUT });
  await shot(page, '01-loading');
  await resetServer(request);
  await waitReady(page);
  expect(await chosenBackend(page)).toBe('webgpu');
  await expect(page.locator('#selection tr[data-candidate=webgpu]')).toHaveAttribute('data-status', 'chosen');
  await expect(page.locator('#cap-webgpu')).toHaveAttribute('data-available', 'true');
  await shot(page, '02-ready-webgpu');

  const text = await ask(page, PROMPT, MAX_TOKENS);
  expect(text).toBe((await ref).text);
  await expect(page.locator('#conversation li.msg.assistant .meta')).toContainText('webgpu');
  await shot(page, '03-answer-webgpu');
  expect(errors).toEqual([]);
});
