/** Broken or unsupported checkpoints fail with typed errors and leave no output file behind. */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitNetError, isAbortError } from '../src/errors.js';
import { fileSource } from '../src/model/byte-source.js';
import { convertHFCheckpoint, type ConvertHFOptions } from '../src/model/hf-convert.js';
import { type HFFixtureOptions, writeHFFixture } from '../src/model/hf-fixture.js';
import { encodeSafetensors, openSafetensors, type SafetensorsInput } from '../src/model/safetensors.js';

const SMALL: HFFixtureOptions = { nLayer: 1, nEmbd: 128, nHead: 2, nHeadKv: 1, nFf: 256, vocab: 300, nMerges: 20 };
let root: string;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bitnet-hferr-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function checkpoint(options: HFFixtureOptions = {}): Promise<string> {
  const dir = join(root, `ck${n++}`);
  await writeHFFixture(dir, { ...SMALL, ...options });
  return dir;
}

/** Rewrites model.safetensors after editing its tensor list. */
async function editTensors(dir: string, edit: (t: SafetensorsInput[]) => SafetensorsInput[]): Promise<void> {
  const path = join(dir, 'model.safetensors');
  const st = await openSafetensors(await fileSource(path), path);
  const list: SafetensorsInput[] = [];
  for (const t of st.tensors.values()) list.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: await st.read(t.name) });
  await st.close();
  await writeFile(path, encodeSafetensors(edit(list)));
}

/** Runs a conversion that must fail; returns [code, message] and checks nothing was left in `out`'s place. */
async function failure(dir: string, options: Partial<ConvertHFOptions> = {}): Promise<[string, string]> {
  const out = join(root, `out${n++}.gguf`);
  try {
    await convertHFCheckpoint(dir, out, { type: 'i2_s', ...options });
  } catch (e) {
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
    if (isAbortError(e)) return ['AbortError', String(e)];
    expect(e).toBeInstanceOf(BitNetError);
    return [(e as BitNetError).code, (e as BitNetError).message];
  }
  throw new Error('expected the conversion to fail');
}

describe('convertHFCheckpoint: bad checkpoints', () => {
  it('missing tensors', async () => {
    const dir = await checkpoint();
    await editTensors(dir, (t) => t.filter((x) => x.name !== 'model.layers.0.mlp.up_proj.weight' && x.name !== 'model.layers.0.self_attn.attn_sub_norm.weight'));
    const [code, msg] = await failure(dir);
    expect(code).toBe('MISSING_TENSOR');
    expect(msg).toMatch(/model\.layers\.0\.self_attn\.attn_sub_norm\.weight.*inner_attn_ln/);
    const dir2 = await checkpoint();
    await editTensors(dir2, (t) => t.filter((x) => x.name !== 'model.layers.0.mlp.down_proj.weight_scale'));
    expect(await failure(dir2)).toEqual(['MISSING_TENSOR', expect.stringMatching(/down_proj\.weight_scale/)]);
  });

  it('wrong dtypes and shapes', async () => {
    const dir = await checkpoint();
    await editTensors(dir, (t) => t.map((x) => (x.name === 'model.layers.0.self_attn.q_proj.weight' ? { ...x, dtype: 'I8' } : x)));
    expect(await failure(dir)).toEqual(['BAD_TENSOR_TYPE', expect.stringMatching(/q_proj\.weight" has dtype I8/)]);
    const dir2 = await checkpoint();
    await editTensors(dir2, (t) => t.map((x) => (x.name === 'model.norm.weight' ? { ...x, dtype: 'I16' } : x)));
    expect((await failure(dir2))[0]).toBe('BAD_TENSOR_TYPE');
    const dir3 = await checkpoint();
    await editTensors(dir3, (t) => t.map((x) => (x.name === 'model.layers.0.self_attn.k_proj.weight' ? { ...x, shape: [8, 256] } : x)));
    expect(await failure(dir3)).toEqual(['BAD_TENSOR_SHAPE', expect.stringMatching(/k_proj\.weight" has shape \[8, 256\], expected \[16, 128\]/)]);
  });

  it('truncated safetensors and absurd header lengths', async () => {
    const dir = await checkpoint();
    const path = join(dir, 'model.safetensors');
    await truncate(path, (await readFile(path)).length - 100);
    expect(await failure(dir)).toEqual(['BAD_CHECKPOINT', expect.stringMatching(/truncated/)]);
    const bytes = await readFile(path);
    new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(0, 1n << 50n, true);
    await writeFile(path, bytes);
    expect(await failure(dir)).toEqual(['BAD_CHECKPOINT', expect.stringMatching(/header length \d+ is absurd/)]);
  });

  it('ternary code 3 in packed weights is bad data; nothing is left on disk', async () => {
    const dir = await checkpoint();
    await editTensors(dir, (t) => t.map((x) => (x.name === 'model.layers.0.mlp.gate_proj.weight' ? { ...x, data: x.data.map((b, i) => (i === 77 ? 0xff : b)) } : x)));
    expect(await failure(dir)).toEqual(['BAD_TENSOR_DATA', expect.stringMatching(/gate_proj\.weight.*code 3/)]);
    expect((await readdir(root)).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('missing or broken files, unsupported configs, bad shard indexes', async () => {
    const dir = await checkpoint();
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, architectures: ['LlamaForCausalLM'] }));
    expect((await failure(dir))[0]).toBe('UNSUPPORTED_ARCHITECTURE');
    await writeFile(join(dir, 'config.json'), '{ not json');
    expect((await failure(dir))[0]).toBe('BAD_CONFIG');
    await rm(join(dir, 'config.json'));
    expect(await failure(dir)).toEqual(['BAD_CHECKPOINT', expect.stringMatching(/config\.json not found/)]);
    const dir2 = await checkpoint();
    await rm(join(dir2, 'model.safetensors'));
    expect(await failure(dir2)).toEqual(['BAD_CHECKPOINT', expect.stringMatching(/neither model\.safetensors nor/)]);
    const dir3 = await checkpoint();
    await rm(join(dir3, 'tokenizer.json'));
    expect(await failure(dir3)).toEqual(['BAD_CHECKPOINT', expect.stringMatching(/tokenizer\.json not found/)]);
    const dir4 = await checkpoint({ shards: 2 });
    const idx = JSON.parse(await readFile(join(dir4, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    const [first] = Object.keys(idx.weight_map);
    idx.weight_map[first!] = idx.weight_map[first!]!.replace('00001-of', '00002-of');
    await writeFile(join(dir4, 'model.safetensors.index.json'), JSON.stringify(idx));
    expect((await failure(dir4))[0]).toBe('BAD_CHECKPOINT');
    expect(await failure(join(root, 'does-not-exist'))).toEqual(['BAD_CHECKPOINT', expect.stringMatching(/config\.json not found/)]);
  });

  it('options: unknown type, a type the shapes cannot hold, abort mid-way', async () => {
    const dir = await checkpoint();
    expect((await failure(dir, { type: 'q4_0' as never }))[0]).toBe('BAD_OPTION');
    expect(await failure(dir, { type: 'tq2_0' })).toEqual(['BAD_OPTION', expect.stringMatching(/multiple of 256/)]);
    const ac = new AbortController();
    const [code] = await failure(dir, { signal: ac.signal, onProgress: (p) => p.index === 3 && ac.abort() });
    expect(code).toBe('AbortError');
  });
});
