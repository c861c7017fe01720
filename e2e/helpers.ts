/**
 * Shared helpers of the end-to-end tests: driving the demo page, the reference text (computed in
 * Node with the CLI's scalar reference backend), the test server's request log and fault hooks, and
 * screenshots into e2e/artifacts/.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type APIRequestContext, type Page } from '@playwright/test';

const REPO = fileURLToPath(new URL('..', import.meta.url));
export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
export const PROMPT = 'In the beginning God created';
/**
 * How long a page may take to load the model / answer. Generous: on a loaded 2-core machine the
 * browser alone can take half a minute to start; an unloaded machine needs a few seconds.
 */
export const LOAD_TIMEOUT = 150_000;
export const ANSWER_TIMEOUT = 120_000;

const refCache = new Map<string, Promise<{ text: string; tokens: number[] }>>();

/**
 * The model file a page is served: the copy in a build's assets (the demo's by default), so the
 * reference is computed on exactly the bytes the browser runs even if models/ changed since the
 * build; `models/bitnet-kjv.gguf` when the build has none.
 */
export const MODEL_FILE = join(REPO, 'models/bitnet-kjv.gguf');

export function servedModel(buildDir = 'demo/dist'): string {
  const dir = join(REPO, buildDir, 'assets');
  const f = existsSync(dir) ? readdirSync(dir).find((n) => n.endsWith('.gguf')) : undefined;
  return f ? join(dir, f) : MODEL_FILE;
}

/** Greedy continuation of `prompt` by the reference backend in Node (`bitnet generate --json`). */
export function referenceText(prompt: string, maxTokens: number, model = servedModel()): Promise<{ text: string; tokens: number[] }> {
  const key = `${model}\u0000${maxTokens}\u0000${prompt}`;
  let p = refCache.get(key);
  if (!p) {
    p = new Promise((ok, fail) => {
      const args = ['bin/bitnet.js', 'generate', '--model', model, '--backend', 'reference', '--prompt', prompt, '--max-tokens', String(maxTokens), '--temperature', '0', '--json'];
      execFile(process.execPath, args, { cwd: REPO, timeout: 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
        if (err) return fail(new Error(`reference generation failed: ${err.message}\n${stderr}`));
        const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
        if (!line) return fail(new Error(`reference generation printed no JSON: ${stdout}\n${stderr}`));
        const r = JSON.parse(line) as { text: string; tokens: number[] };
        ok({ text: r.text, tokens: r.tokens });
      });
    });
    refCache.set(key, p);
  }
  return p;
}

/** Collects page errors and console errors (tests assert there are none that matter). */
export function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Opens the demo with the given query and waits until the engine is ready (fails with the page's error). */
export async function openDemo(page: Page, query = '', timeout = LOAD_TIMEOUT): Promise<void> {
  await page.goto(`/${query}`, { waitUntil: 'commit' });
  await waitReady(page, timeout);
}

export async function waitReady(page: Page, timeout = LOAD_TIMEOUT): Promise<void> {
  const status = page.locator('#status');
  await expect(status).toHaveAttribute('data-status', /^(ready|error)$/, { timeout });
  if ((await status.getAttribute('data-status')) === 'error') throw new Error(`demo failed to load: ${await status.textContent()}`);
}

/** Types a prompt, runs it from the chat view and returns the answer bubble's text once done. */
export async function ask(page: Page, prompt: string, maxTokens: number, timeout = ANSWER_TIMEOUT): Promise<string> {
  const before = await page.locator('#conversation li.msg.assistant').count();
  await page.fill('#prompt', prompt);
  await page.fill('#max-tokens', String(maxTokens));
  await page.fill('#temperature', '0');
  await page.selectOption('#chat-mode', 'completion');
  await page.click('#send');
  const answer = page.locator('#conversation li.msg.assistant').nth(before);
  await expect(answer).toHaveAttribute('data-state', /^(done|error|aborted)$/, { timeout });
  const state = await answer.getAttribute('data-state');
  if (state !== 'done') throw new Error(`answer ended ${state}: ${await answer.locator('.meta').textContent()}`);
  return (await answer.locator('.text').textContent()) ?? '';
}

export async function chosenBackend(page: Page): Promise<string | null> {
  return page.locator('#selection').getAttribute('data-backend');
}

export interface LogEntry {
  method: string;
  path: string;
  range: string | null;
  status: number;
  bytes: number;
}

export async function serverLog(request: APIRequestContext): Promise<LogEntry[]> {
  const r = await request.get('/__test/log');
  return (await r.json()) as LogEntry[];
}

export async function clearServerLog(request: APIRequestContext): Promise<void> {
  await request.post('/__test/log/clear');
}

/** Model-file responses stop after byte `after` (connection dropped), until `clearFault`. */
export async function setFault(request: APIRequestContext, after: number, suffix = '.gguf'): Promise<void> {
  await request.post(`/__test/fault?suffix=${encodeURIComponent(suffix)}&after=${after}`);
}

export async function clearFault(request: APIRequestContext): Promise<void> {
  await request.post('/__test/fault/clear');
}

export const isModelFile = (path: string): boolean => path.endsWith('.gguf');

/** Saves a full-page screenshot as e2e/artifacts/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** Model-file responses wait `ms` before their body (slow network), until `clearDelay`. */
export async function setDelay(request: APIRequestContext, ms: number, suffix = '.gguf'): Promise<void> {
  await request.post(`/__test/delay?suffix=${encodeURIComponent(suffix)}&ms=${ms}`);
}

export async function clearDelay(request: APIRequestContext): Promise<void> {
  await request.post('/__test/delay/clear');
}

/** Resets the server's hooks (each test starts from a clean server state). */
export async function resetServer(request: APIRequestContext): Promise<void> {
  await Promise.all([clearFault(request), clearDelay(request), clearServerLog(request)]);
}
