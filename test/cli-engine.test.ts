/**
 * The CLI's text commands (`generate`, `chat`) run on the public engine API: `createEngine` is
 * called in-process (`worker: false`) with the CLI's model and backend, the engine is disposed at
 * the end, SIGINT (io.signal) ends a running generation with exit 130, option errors name the CLI
 * flag, and a model URL goes through the engine's downloader. Runs `main()` in process.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as engineModule from '../src/api/engine.js';
import type { Engine, EngineOptions } from '../src/index.js';
import type { CliIO } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { makeFixture } from '../src/model/fixtures.js';
import { startRangeServer, type RangeServer } from './helpers/cache-range-server.js';

const calls: { options: EngineOptions; engine: Engine | null; disposed: boolean }[] = [];

vi.mock('../src/api/engine.js', async (importOriginal) => {
  const real = await importOriginal<typeof engineModule>();
  return {
    ...real,
    createEngine: async (options: EngineOptions) => {
      const call = { options, engine: null as Engine | null, disposed: false };
      calls.push(call);
      const engine = await real.createEngine(options);
      const dispose = engine.dispose.bind(engine);
      engine.dispose = async () => {
        call.disposed = true;
        await dispose();
      };
      call.engine = engine;
      return engine;
    },
  };
});

function capture(signal?: AbortSignal, onOut?: (s: string) => void): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => ((out += s), onOut?.(s)) },
    stderr: { write: (s: string) => (err += s) },
    ...(signal ? { signal } : {}),
    out: () => out,
    err: () => err,
  };
}

let dir: string;
let model: string;
let fixture: Uint8Array;
let server: RangeServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bitnet-cli-engine-'));
  model = join(dir, 'fixture.gguf');
  fixture = await makeFixture({ nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, nLayer: 1, vocab: 384, nMerges: 100, seed: 21, contextLength: 128 });
  await writeFile(model, fixture);
  server = await startRangeServer({ '/m.gguf': fixture });
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  calls.length = 0;
});

describe('CLI on the public engine API', () => {
  it('generate --json: one in-process engine with the CLI model and backend, disposed at the end', async () => {
    const io = capture();
    const status = await main(['generate', '--model', model, '--prompt', 'In the beginning', '--max-tokens', '5', '--temperature', '0', '--backend', 'reference', '--json'], io);
    expect(io.err()).toBe('');
    expect(status).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.options).toMatchObject({ model, backend: 'reference', worker: false });
    expect(calls[0]!.disposed).toBe(true);
    const out = JSON.parse(io.out()) as { text: string; tokens: number[]; promptTokens: number[]; backend: string; stats: { generatedTokens: number } };
    expect(out.backend).toBe('reference');
    expect(out.stats.generatedTokens).toBe(out.tokens.length);
    // The prompt ids are the engine's own tokenization of the text.
    const again = await engineModule.createEngine({ model, backend: 'reference', worker: false });
    try {
      expect(out.promptTokens).toEqual(await again.tokenize('In the beginning'));
      const want = await again.generate(out.promptTokens, { maxTokens: 5, temperature: 0 }).text();
      expect(out.text).toBe(want);
    } finally {
      await again.dispose();
    }
  });

  it('SIGINT (io.signal) while generating: exit 130, one ABORTED line, engine disposed', async () => {
    const ac = new AbortController();
    const io = capture(ac.signal, () => ac.abort());
    const status = await main(['generate', '--model', model, '--prompt-tokens', '1,2,3', '--max-tokens', '60', '--temperature', '0.8', '--seed', '3', '--backend', 'reference'], io);
    expect(status).toBe(130);
    expect(io.err()).toBe('bitnet: ABORTED: interrupted\n');
    expect(io.out().length).toBeGreaterThan(0);
    expect(calls[0]!.disposed).toBe(true);
  });

  it('sampling errors name the CLI flag and stop before any model is loaded', async () => {
    const io = capture();
    expect(await main(['generate', '--model', model, '--prompt', 'x', '--top-p', '2'], io)).toBe(2);
    expect(io.err()).toMatch(/^bitnet: BAD_OPTION: --top-p: expected a number in \(0, 1\], got 2\n$/);
    const io2 = capture();
    expect(await main(['chat', '--model', model, '--user', 'x', '--temperature', '-1'], io2)).toBe(2);
    expect(io2.err()).toMatch(/^bitnet: BAD_OPTION: --temperature: /);
    expect(calls).toHaveLength(0);
  });

  it('generate reads a model URL through the engine downloader (Range requests)', async () => {
    const io = capture();
    const status = await main(['generate', '--model', server.url('/m.gguf'), '--prompt-tokens', '5,6', '--max-tokens', '3', '--temperature', '0', '--backend', 'reference', '--json'], io);
    expect(io.err()).toBe('');
    expect(status).toBe(0);
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.every((r) => r.range !== null)).toBe(true);
    expect((JSON.parse(io.out()) as { tokens: number[] }).tokens.length).toBeGreaterThan(0);
  });

  it('chat streams the assistant reply; chat --json prints a chat.completion with usage', async () => {
    const msgs = join(dir, 'turns.json');
    await writeFile(msgs, JSON.stringify([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello.' }]));
    const args = ['chat', '--model', model, '--system', 'Be brief.', '--messages', msgs, '--user', 'And then?', '--max-tokens', '6', '--temperature', '0', '--backend', 'reference'];
    const plain = capture();
    expect(await main(args, plain)).toBe(0);
    const json = capture();
    expect(await main([...args, '--json'], json)).toBe(0);
    expect(json.err()).toBe('');
    const c = JSON.parse(json.out()) as { object: string; choices: { message: { role: string; content: string }; finish_reason: string }[]; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };
    expect(c.object).toBe('chat.completion');
    expect(c.choices[0]!.message.role).toBe('assistant');
    expect(plain.out()).toBe(c.choices[0]!.message.content);
    expect(c.usage.completion_tokens).toBeLessThanOrEqual(6);
    expect(c.usage.total_tokens).toBe(c.usage.prompt_tokens + c.usage.completion_tokens);
    expect(calls.map((x) => x.disposed)).toEqual([true, true]);
    const bad = capture();
    expect(await main(['chat', '--model', model, '--messages', join(dir, 'missing.json')], bad)).toBe(1);
    expect(bad.err()).toMatch(/^bitnet: IO: /);
  });
});
