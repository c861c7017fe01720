/**
 * The IndexedDB model cache in a real browser: a reload loads the model without fetching a weight
 * byte (checked on the server's request log and by intercepting the page's and its workers'
 * requests), and a download cut off midway resumes on the next load from where it stopped, after
 * which the model generates the reference text. The cache manager lists / deletes / clears entries.
 */
import { statSync } from 'node:fs';
import { expect, test, type Request } from '@playwright/test';
import { LOAD_TIMEOUT, PROMPT, ask, clearFault, clearServerLog, isModelFile, openDemo, referenceText, resetServer, servedModel, serverLog, setFault, shot, waitReady } from './helpers.js';

const CHUNK = 128 * 1024;
const SIZE = statSync(servedModel()).size;
/** The download is cut in the middle of this chunk (about half-way through the file). */
const CUT_CHUNK = Math.max(1, Math.floor(SIZE / CHUNK / 2));

test.beforeEach(async ({ request }) => resetServer(request));

test('reload: the model comes from IndexedDB and no weight bytes are fetched again', async ({ page, request, context }) => {
  await openDemo(page, '?backend=wasm');
  const first = (await serverLog(request)).filter((e) => isModelFile(e.path));
  expect(first.reduce((n, e) => n + e.bytes, 0)).toBe(SIZE);
  await expect(page.locator('#model-cached')).toHaveAttribute('data-from', 'network');

  await clearServerLog(request);
  const intercepted: string[] = [];
  const onRequest = (r: Request): void => {
    if (isModelFile(new URL(r.url()).pathname)) intercepted.push(`${r.method()} ${r.url()} ${r.headers().range ?? ''}`);
  };
  context.on('request', onRequest);
  await page.reload({ waitUntil: 'commit' });
  await waitReady(page);
  await expect(page.locator('#model-cached')).toHaveAttribute('data-cached', 'true');
  await expect(page.locator('#model-cached')).toHaveAttribute('data-from', 'cache');
  const again = (await serverLog(request)).filter((e) => isModelFile(e.path));
  expect(again.reduce((n, e) => n + e.bytes, 0), JSON.stringify(again)).toBe(0);
  expect(intercepted).toEqual([]);
  // Phases of the second load: no byte was downloaded.
  expect(await ask(page, PROMPT, 6)).toBe((await referenceText(PROMPT, 6)).text);

  // Cache manager: the entry is listed complete; deleting it empties the list.
  await page.click('#cache-refresh');
  const row = page.locator('#cache-models tr[data-complete=true]');
  await expect(row).toHaveCount(1);
  await shot(page, '06-cache-manager');
  await row.locator('button').click();
  await expect(page.locator('#cache-empty')).toBeVisible();
});

test('a download cut off midway resumes on the next load and the model is correct', async ({ page, request }) => {
  const ref = referenceText(PROMPT, 8);
  const cut = CUT_CHUNK * CHUNK + CHUNK / 2;
  await setFault(request, cut);
  await page.goto(`/?backend=wasm&chunk=${CHUNK}&retries=0`, { waitUntil: 'commit' });
  await expect(page.locator('#status')).toHaveAttribute('data-status', 'error', { timeout: LOAD_TIMEOUT });
  const before = (await serverLog(request)).filter((e) => isModelFile(e.path));
  expect(before.length).toBeGreaterThan(0);
  // The cache manager shows the partial entry.
  await page.click('#cache-refresh');
  await expect(page.locator('#cache-models tr[data-complete=false]')).toHaveCount(1);
  await shot(page, '07-download-interrupted');

  await clearFault(request);
  await clearServerLog(request);
  await page.reload({ waitUntil: 'commit' });
  await waitReady(page);
  const resumed = (await serverLog(request)).filter((e) => isModelFile(e.path) && e.method === 'GET');
  const starts = resumed.map((e) => Number(/bytes=(\d+)-/.exec(e.range ?? '')?.[1] ?? 0));
  // Nothing before the cut chunk is fetched again (a tiny probe of the file's identity is allowed).
  const refetched = resumed.filter((e, i) => starts[i]! < CUT_CHUNK * CHUNK).reduce((n, e) => n + e.bytes, 0);
  expect(refetched, JSON.stringify(resumed)).toBeLessThanOrEqual(4096);
  expect(resumed.reduce((n, e) => n + e.bytes, 0)).toBeGreaterThanOrEqual(SIZE - CUT_CHUNK * CHUNK);
  expect(await ask(page, PROMPT, 8)).toBe((await ref).text);
  await page.click('#cache-refresh');
  await expect(page.locator('#cache-models tr[data-complete=true]')).toHaveCount(1);
});
