import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import { bufferSource } from '../src/model/byte-source.js';
import { buildFixtureVocab, gpt2ByteToChar } from '../src/model/fixture-tokenizer.js';
import { fixtureInput, makeFixture, writeFixtureFile } from '../src/model/fixtures.js';
import { getNumber, getNumberArray, getString, getStringArray, openGGUF } from '../src/model/gguf.js';
import { planGGUF } from '../src/model/gguf-writer.js';
import { inspectGGUF } from '../src/model/inspect.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BitNetError);
    return (err as BitNetError).code;
  }
  throw new Error('expected a rejection');
}

/** Greedy BPE by merge rank over one pre-token (FORMATS.md §6.5), enough to sanity-check merges. */
function bpe(word: string, merges: readonly string[]): string[] {
  const rank = new Map(merges.map((m, i) => [m, i]));
  let syms = [...word];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < syms.length; i++) {
      const r = rank.get(`${syms[i]} ${syms[i + 1]}`);
      if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
    }
    if (best < 0) return syms;
    syms = [...syms.slice(0, best), syms[best]! + syms[best + 1]!, ...syms.slice(best + 2)];
  }
}

describe('fixture generator', () => {
  it('is deterministic in the seed', async () => {
    const a = await makeFixture({ nLayer: 1, vocab: 300, seed: 3 });
    const b = await makeFixture({ nLayer: 1, vocab: 300, seed: 3 });
    const c = await makeFixture({ nLayer: 1, vocab: 300, seed: 4 });
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(c))).not.toBe(0);
  });

  it('embeds a byte-level BPE tokenizer in the GPT-2 alphabet', async () => {
    const f = await openGGUF(bufferSource(await makeFixture({ nLayer: 1 })));
    const md = f.metadata;
    expect(getString(md, 'tokenizer.ggml.model')).toBe('gpt2');
    expect(getString(md, 'tokenizer.ggml.pre')).toBe('llama-bpe');
    const tokens = getStringArray(md, 'tokenizer.ggml.tokens')!;
    const types = getNumberArray(md, 'tokenizer.ggml.token_type')!;
    const merges = getStringArray(md, 'tokenizer.ggml.merges')!;
    expect(tokens.length).toBe(512);
    expect(new Set(tokens).size).toBe(512);
    expect([tokens[32], tokens[10], tokens[9], tokens[65], tokens[0], tokens[173], tokens[255]]).toEqual(['Ġ', 'Ċ', 'ĉ', 'A', 'Ā', 'Ń', 'ÿ']);
    expect(merges.length).toBeGreaterThanOrEqual(200);
    const ids = new Map(tokens.map((t, i) => [t, i]));
    for (const m of merges) {
      const [a, b] = m.split(' ');
      expect(ids.has(a!) && ids.has(b!) && ids.has(a! + b!)).toBe(true);
      expect(ids.get(a! + b!)!).toBeGreaterThan(Math.max(ids.get(a!)!, ids.get(b!)!));
    }
    expect(bpe('Ġthe', merges)).toEqual(['Ġthe']);
    const bos = getNumber(md, 'tokenizer.ggml.bos_token_id')!;
    const eos = getNumber(md, 'tokenizer.ggml.eos_token_id')!;
    const eot = getNumber(md, 'tokenizer.ggml.eot_token_id')!;
    expect([tokens[bos], tokens[eos], tokens[eot]]).toEqual(['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>']);
    expect([types[bos], types[eos], types[eot], types[0], types[300]]).toEqual([3, 3, 3, 1, 1]);
    expect(f.metadata.get('tokenizer.ggml.add_bos_token')!.value).toBe(true);
  });

  it('builds LLaMA-3 style control ids for the 2B-4T layout', () => {
    const v = buildFixtureVocab(1000, 50, 'llama3');
    expect([v.bosId, v.eosId, v.eotId]).toEqual([744, 745, 753]);
    expect([v.tokens[744 + 6], v.tokens[744 + 7], v.tokens[999]]).toEqual(['<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_250|>']);
    expect(gpt2ByteToChar()[0x20]).toBe('Ġ');
    expect(() => buildFixtureVocab(258)).toThrow(BitNetError);
  });

  it('writes file types and hidden activation keys per variant', async () => {
    const fileType = { TQ1_0: 36, TQ2_0: 37, I2_S: 40 } as const;
    for (const ternaryType of ['TQ1_0', 'TQ2_0', 'I2_S'] as const) {
      const f = await openGGUF(bufferSource(await makeFixture({ arch: 'llama', ternaryType, nLayer: 1, vocab: 300, hiddenActivation: 'silu' })));
      expect(getNumber(f.metadata, 'general.file_type')).toBe(fileType[ternaryType]);
      expect(getString(f.metadata, 'llama.hidden_activation')).toBe('silu');
      expect(f.tensor('blk.0.attn_q.weight')!.type).toBe(ternaryType);
      expect(f.tensor('blk.0.attn_sub_norm.weight')).toBeUndefined();
    }
  });

  it('plans the full 2B-4T shape like the official file (without generating data)', () => {
    const plan = planGGUF(fixtureInput({ shape: '2b4t' }));
    const bytes = (type: string) => plan.tensors.filter((t) => t.type.name === type).reduce((a, t) => a + t.nbytes, 0);
    expect(plan.tensors.length).toBe(332);
    expect(bytes('I2_S')).toBe(521_017_920);
    expect(bytes('F16')).toBe(656_670_720);
    expect(bytes('F32')).toBe(1_761_280);
    expect(plan.tensors.find((t) => t.name === 'blk.29.ffn_down.weight')!.dims).toEqual([6912, 2560]);
  });

  it('refuses to build 2b4t in memory and rejects impossible options', async () => {
    expect(await codeOf(makeFixture({ shape: '2b4t' }))).toBe('BAD_OPTION');
    expect(await codeOf(makeFixture({ ternaryType: 'TQ2_0', nEmbd: 128, nHead: 2, nHeadKv: 1 }))).toBe('BAD_OPTION');
    expect(await codeOf(makeFixture({ nHead: 3 }))).toBe('BAD_OPTION');
    expect(await codeOf(makeFixture({ vocab: 100 }))).toBe('BAD_OPTION');
    expect(await codeOf(makeFixture({ nEmbd: 128, nHead: 2, nHeadKv: 1, nFf: 129 }))).toBe('BAD_OPTION');
    expect(await codeOf(makeFixture({ embeddingType: 'Q8_0', nEmbd: 136, nHead: 2, nHeadKv: 2, ternaryType: 'I2_S' }))).toBe('BAD_OPTION');
  });

  it('streams to a file identical to the in-memory form', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fixture-'));
    try {
      const opts = { arch: 'bitnet-25' as const, ternaryType: 'TQ1_0' as const, nLayer: 1, vocab: 300 };
      const path = join(dir, 'f.gguf');
      const n = await writeFixtureFile(opts, path);
      const disk = await readFile(path);
      expect(n).toBe(disk.length);
      expect(Buffer.compare(disk, Buffer.from(await makeFixture(opts)))).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('inspectGGUF summarises a fixture as plain JSON', async () => {
    const f = await openGGUF(bufferSource(await makeFixture({ nLayer: 2, ternaryType: 'I2_S', projectionScales: true })));
    const info = inspectGGUF(f);
    const round = JSON.parse(JSON.stringify(info));
    expect(round).toEqual(info);
    expect(info.architecture).toBe('bitnet-b1.58');
    expect(info.hyperparameters.block_count).toBe(2);
    expect(info.tokenizer['ggml.tokens']).toEqual({ array: 'STRING', length: 512 });
    expect(info.config!.activation).toBe('relu2');
    expect(info.tensorCount).toBe(2 + 2 * 18);
    expect(info.types.I2_S!.count).toBe(14);
    expect(info.types.F32!.count).toBe(1 + 2 * 4 + 14);
    expect(info.tensorBytes).toBe(info.tensors.reduce((a, t) => a + t.bytes, 0));
    expect(info.tensors[0]).toMatchObject({ name: 'token_embd.weight', type: 'F16', dims: [256, 512], bytes: 256 * 512 * 2, offset: f.dataOffset });
    const broken = inspectGGUF({ ...f, metadata: new Map([...f.metadata].filter(([k]) => !k.endsWith('.block_count'))), tensors: f.tensors, architecture: f.architecture, tensor: f.tensor.bind(f) });
    expect(broken.configError!.code).toBe('BAD_CONFIG');
  });
});
