import { describe, expect, it } from 'vitest';
import { generate, generateText, type GenerateChunk, type GenerateOptions, type GenerateStats } from '../src/runtime/generate.js';
import { StopStringMatcher } from '../src/runtime/stop-strings.js';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { isBitNetError } from '../src/errors.js';
import { BOS, EOS, ScriptedBackend, byteTokenizer, bytesOf } from './helpers/fakes.js';
import { tinyModel } from './helpers/tiny-model.js';

async function collect(b: ScriptedBackend | ReferenceBackend, o: GenerateOptions): Promise<{ chunks: GenerateChunk[]; stats: GenerateStats }> {
  const chunks: GenerateChunk[] = [];
  const it = generate(b, byteTokenizer(), o);
  for (;;) {
    const r = await it.next();
    if (r.done) return { chunks, stats: r.value };
    chunks.push(r.value);
  }
}

const greedy = { temperature: 0 } as const;

describe('StopStringMatcher', () => {
  it('holds back possible prefixes and releases false starts', () => {
    const m = new StopStringMatcher(['END', '\n\n']);
    expect(m.push('The E')).toBe('The ');
    expect(m.push('N')).toBe('');
    expect(m.push('TRY\n')).toBe('ENTRY');
    expect(m.push('x')).toBe('\nx');
    expect(m.push('EN')).toBe('');
    expect(m.push('D and more')).toBe('');
    expect(m.stopped).toBe(true);
    expect(m.flush()).toBe('');
    const n = new StopStringMatcher(['abc']);
    expect(n.push('xab')).toBe('x');
    expect(n.flush()).toBe('ab');
  });
});

describe('generate', () => {
  it('streams text and stops on a stop string without leaking any part of it', async () => {
    const b = new ScriptedBackend(bytesOf('Hello ENTRY, END of text'));
    const { chunks, stats } = await collect(b, { prompt: 'Hi', stop: ['END'], maxTokens: 50, ...greedy });
    const text = chunks.map((c) => c.text).join('');
    expect(text).toBe('Hello ENTRY, ');
    let soFar = '';
    for (const c of chunks) {
      soFar += c.text;
      // Never shows a possible start of "END" before it is known not to be one.
      expect(soFar.endsWith('E') || soFar.endsWith('EN'), soFar).toBe(false);
      expect(text.startsWith(soFar)).toBe(true);
    }
    expect(stats.finishReason).toBe('stop');
    expect(chunks.flatMap((c) => c.tokenIds)).toEqual(bytesOf('Hello ENTRY, END'));
    expect(stats.generatedTokens).toBe('Hello ENTRY, END'.length);
    expect(stats.promptTokens).toBe(3); // BOS + "Hi"
    expect(b.forwarded[0]).toEqual([BOS, ...bytesOf('Hi')]);
    expect(b.live.size).toBe(0);
  });

  it('stop string spanning several tokens and a multi-byte character', async () => {
    const b = new ScriptedBackend(bytesOf('año→ ⟨stop⟩ tail'));
    const r = await generateText(b, byteTokenizer(), { promptTokens: [1], stop: ['⟨stop⟩'], maxTokens: 64, ...greedy });
    expect(r.text).toBe('año→ ');
    expect(r.text.includes('\uFFFD')).toBe(false);
    expect(r.promptTokens).toEqual([1]);
  });

  it('stop tokens end generation; their text is not emitted; held text is released', async () => {
    const b = new ScriptedBackend([...bytesOf('ab EN'), EOS, ...bytesOf('zz')]);
    const r = await generateText(b, byteTokenizer(), { promptTokens: [5], stop: ['END'], maxTokens: 20, ...greedy });
    expect(r.text).toBe('ab EN');
    expect(r.tokenIds).toEqual([...bytesOf('ab EN'), EOS]);
    expect(r.stats.finishReason).toBe('stop');
    const b2 = new ScriptedBackend(bytesOf('abcdef'));
    const r2 = await generateText(b2, byteTokenizer(), { promptTokens: [5], stopTokens: [bytesOf('d')[0]!], maxTokens: 20, ...greedy });
    expect(r2.text).toBe('abc');
  });

  it('maxTokens ends with length and does not run a useless forward', async () => {
    const b = new ScriptedBackend(bytesOf('abcdefgh'));
    const r = await generateText(b, byteTokenizer(), { prompt: 'x', addBos: false, maxTokens: 4, ...greedy });
    expect(r.text).toBe('abcd');
    expect(r.stats).toMatchObject({ finishReason: 'length', generatedTokens: 4, promptTokens: 1 });
    expect(b.forwarded.length).toBe(4); // prefill + 3 decode steps
    expect(r.stats.ttftMs).toBeGreaterThanOrEqual(0);
    expect(r.stats.prefillTokensPerS).toBeGreaterThanOrEqual(0);
    const z = await generateText(new ScriptedBackend([]), byteTokenizer(), { prompt: 'x', maxTokens: 0 });
    expect(z.stats).toMatchObject({ generatedTokens: 0, finishReason: 'length' });
  });

  it('a full context ends generation as length', async () => {
    const b = new ScriptedBackend(bytesOf('abcdefgh'), 4);
    const r = await generateText(b, byteTokenizer(), { promptTokens: [1, 2], maxTokens: 10, ...greedy });
    expect(r.text).toBe('abc');
    expect(r.stats.finishReason).toBe('length');
  });

  it('abort throws AbortError and frees the sequence', async () => {
    const b = new ScriptedBackend(bytesOf('abcdefghijkl'));
    const ac = new AbortController();
    const seen: string[] = [];
    const run = generateText(b, byteTokenizer(), {
      promptTokens: [1], maxTokens: 10, signal: ac.signal, ...greedy,
      onToken: (c) => {
        seen.push(c.text);
        if (seen.length === 3) ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.join('')).toBe('abc');
    expect(b.live.size).toBe(0);
  });

  it("onAbort 'finish' returns finishReason abort; early break frees the sequence", async () => {
    const b = new ScriptedBackend(bytesOf('abcdefghijkl'));
    const ac = new AbortController();
    let n = 0;
    const r = await generateText(b, byteTokenizer(), {
      promptTokens: [1], maxTokens: 10, signal: ac.signal, onAbort: 'finish', ...greedy,
      onToken: () => { if (++n === 2) ac.abort(); },
    });
    expect(r.stats.finishReason).toBe('abort');
    expect(r.text).toBe('ab');
    expect(b.live.size).toBe(0);
    for await (const c of generate(b, byteTokenizer(), { promptTokens: [1], maxTokens: 10, ...greedy })) {
      expect(c.text).toBe('a');
      break;
    }
    expect(b.live.size).toBe(0);
  });

  it('rejects bad options before creating a sequence', async () => {
    const b = new ScriptedBackend([]);
    const code = async (o: GenerateOptions): Promise<string | undefined> => {
      try {
        await generateText(b, byteTokenizer(), o);
      } catch (e) {
        return isBitNetError(e) ? `${e.code}:${String(e.details?.['option'] ?? '')}` : String(e);
      }
      return undefined;
    };
    expect(await code({ prompt: 'a', maxTokens: -1 })).toBe('BAD_OPTION:maxTokens');
    expect(await code({ prompt: 'a', promptTokens: [1] })).toBe('BAD_OPTION:prompt');
    expect(await code({})).toBe('BAD_OPTION:prompt');
    expect(await code({ prompt: 'a', temperature: -2 })).toBe('BAD_OPTION:temperature');
    expect(await code({ prompt: 'a', stop: [''] })).toBe('BAD_OPTION:stop');
    expect(await code({ promptTokens: [] })).toBe('BAD_INPUT:');
    expect(b.live.size).toBe(0);
    expect(b.forwarded.length).toBe(0);
  });

  it('with the reference backend: seeded sampling is reproducible and greedy follows argmax', async () => {
    const tm = tinyModel({ vocabSize: 258, contextLength: 64, seed: 4 });
    const b = new ReferenceBackend(tm.weights);
    const o = { promptTokens: [10, 20, 30], maxTokens: 8, temperature: 1, topK: 0, topP: 1, seed: 1234 };
    const a1 = await generateText(b, byteTokenizer(), o);
    const a2 = await generateText(b, byteTokenizer(), o);
    expect(a1.tokenIds).toEqual(a2.tokenIds);
    const g = await generateText(b, byteTokenizer(), { ...o, temperature: 0, stopTokens: [] });
    // Replay greedily by hand.
    const s = b.createSequence();
    let logits = (await b.forward([{ seq: s, tokens: o.promptTokens }]))[0]!;
    const want: number[] = [];
    for (let i = 0; i < g.tokenIds.length; i++) {
      let best = 0;
      for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
      want.push(best);
      if (best === EOS) break;
      logits = (await b.forward([{ seq: s, tokens: [best] }]))[0]!;
    }
    expect(g.tokenIds).toEqual(want);
  });
});
