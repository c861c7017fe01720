/**
 * Repacked WebGPU weights in a real browser (Chromium, SwiftShader, the engine in its worker, the
 * page's own IndexedDB): the first load stores the repacked layout next to the cached model; a
 * reload uses it without rewriting it (the repack was skipped) and generates the reference text;
 * after one stored byte is flipped, the next reload detects it, repacks, stores the layout afresh
 * and still generates the reference text.
 */
import { expect, test, type Page } from '@playwright/test';
import { PROMPT, ask, openDemo, referenceText, resetServer, waitReady } from './helpers.js';

interface RepackState {
  heads: { key: unknown[]; createdAt: number; fingerprint: string; parts: number }[];
}

/** The repack records of the default model database, read in the page. */
function readRepack(page: Page, flipPart0 = false): Promise<RepackState> {
  return page.evaluate(async (flip) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('bitnet-web-models');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const req = <T>(r: IDBRequest<T>): Promise<T> => new Promise((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))));
    const store = db.transaction('files', 'readwrite').objectStore('files');
    const keys = (await req(store.getAllKeys())) as IDBValidKey[][];
    const heads: RepackState['heads'] = [];
    for (const k of keys.filter((k) => Array.isArray(k) && k[0] === 'repack' && k.length === 4)) {
      const h = (await req(store.get(k))) as { createdAt: number; fingerprint: string; parts: unknown[] };
      heads.push({ key: k, createdAt: h.createdAt, fingerprint: h.fingerprint, parts: h.parts.length });
      if (flip) {
        const part = new Uint8Array((await req(store.get([...k, 0]))) as ArrayBuffer);
        part[part.length >> 1]! ^= 0x55;
        await req(store.put(part.buffer, [...k, 0]));
      }
    }
    db.close();
    return { heads };
  }, flipPart0);
}

test('WebGPU: the repacked layout is cached, reused on reload, and repacked again when corrupted', async ({ page, request }) => {
  await resetServer(request);
  const ref = referenceText(PROMPT, 6);
  await openDemo(page, '?backend=webgpu');
  const first = await readRepack(page);
  expect(first.heads).toHaveLength(1);
  expect(first.heads[0]!.key.slice(2)).toEqual(['webgpu', expect.stringMatching(/^gpu-words-v1-/)]);
  expect(first.heads[0]!.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  expect(first.heads[0]!.parts).toBeGreaterThan(0);

  await page.reload({ waitUntil: 'commit' });
  await waitReady(page);
  expect((await readRepack(page)).heads).toEqual(first.heads); // read, not rewritten: the repack was skipped
  expect(await ask(page, PROMPT, 6)).toBe((await ref).text);

  await readRepack(page, true);
  await page.reload({ waitUntil: 'commit' });
  await waitReady(page);
  const third = await readRepack(page);
  expect(third.heads).toHaveLength(1);
  expect(third.heads[0]!.key).toEqual(first.heads[0]!.key);
  expect(third.heads[0]!.createdAt).toBeGreaterThan(first.heads[0]!.createdAt); // dropped and stored afresh
  expect(await ask(page, PROMPT, 6)).toBe((await ref).text);
});
