import { describe, expect, it } from 'vitest';
import { ReferenceBackend, createReferenceBackendFactory } from '../src/backends/reference/reference-backend.js';
import { layerStep } from '../src/backends/reference/transformer.js';
import { FloatRows } from '../src/backends/reference/float-rows.js';
import { f16ToF32 } from '../src/model/formats/f16.js';
import { bitLinear } from '../src/backends/reference/kernels.js';
import { KVCache } from '../src/runtime/kv-cache.js';
import { isBitNetError } from '../src/errors.js';
import type { ModelWeights, TernaryMatrix } from '../src/model/tensor.js';
import { packTernary, tinyModel, type TinyModelOptions } from './helpers/tiny-model.js';
import { fakeQuant, linear, naiveForward, rms, ropeHead } from './helpers/naive-forward.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isBitNetError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

const TOKENS = [3, 17, 5, 5, 22, 0, 9];

describe('primitives (hand computed)', () => {
  it('BitLinear on a 2×3 matrix', () => {
    // x = [1, -2, 0.5]: absmax 2 → a_scale 63.5; x·a = [63.5, -127, 31.75] → q = [64 (tie→even), -127, 32].
    const m = packTernary([1, 0, -1, -1, 1, 1], 2, 3, 0.5);
    const y = bitLinear(m, Float32Array.of(1, -2, 0.5));
    // acc = [64 - 32, -64 - 127 + 32] = [32, -159]; y = acc · 0.5 / 63.5
    expect(y[0]).toBeCloseTo((32 * 0.5) / 63.5, 6);
    expect(y[1]).toBeCloseTo((-159 * 0.5) / 63.5, 6);
  });

  it('f16 rows decode exactly', () => {
    const bits = Uint16Array.of(0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8000);
    const m = { kind: 'float' as const, rows: 2, cols: 3, storage: 'f16' as const, data: new Uint8Array(bits.buffer) };
    const rows = new FloatRows(m);
    expect(Array.from(rows.row(0))).toEqual([1, -2, f16ToF32(0x3555)]);
    expect(rows.row(1)[0]).toBe(2 ** -24);
    expect(rows.row(1)[1]).toBe(65504);
    expect(Object.is(rows.row(1)[2], -0)).toBe(true);
    const uncached = new FloatRows(m, 0);
    expect(Array.from(uncached.row(1))).toEqual(Array.from(rows.row(1)));
  });
});

describe('one layer step vs an independent float computation', () => {
  it('RMSNorm → quantized q/k/v → RoPE → attention → SubLN → o → FFN', () => {
    const tm = tinyModel({ nLayer: 1, seed: 7, outScales: true });
    const c = tm.weights.config;
    const L = tm.weights.layers[0]!;
    const T = tm.ternary[0]!;
    const cache = new KVCache(1, c.nHeadKv * c.headDim, 8);
    cache.reserve(2);
    const x0 = Float32Array.from(tm.embd.subarray(4 * c.nEmbd, 5 * c.nEmbd));
    const x1 = Float32Array.from(tm.embd.subarray(11 * c.nEmbd, 12 * c.nEmbd));
    const got0 = x0.slice();
    layerStep(c, L, 0, got0, cache, 0);
    cache.commit(1);
    const got1 = x1.slice();
    layerStep(c, L, 0, got1, cache, 1);

    // Position 0: attention over a single position returns v itself.
    const h0 = fakeQuant(rms(Array.from(x0), L.attnNorm, c.rmsEps));
    const v0 = linear(T.wv, L.wv.scale, 8, 16, h0, L.outScales.v);
    const att0: number[] = [];
    for (let h = 0; h < 4; h++) att0.push(...v0.slice(Math.floor(h / 2) * 4, Math.floor(h / 2) * 4 + 4));
    const o0 = linear(T.wo, L.wo.scale, 16, 16, fakeQuant(rms(att0, L.attnSubNorm!, c.rmsEps)), L.outScales.o);
    const r0 = Array.from(x0).map((v, i) => v + o0[i]!);
    const f0 = fakeQuant(rms(r0, L.ffnNorm, c.rmsEps));
    const g = linear(T.wGate, L.wGate.scale, 24, 16, f0, L.outScales.gate);
    const u = linear(T.wUp, L.wUp.scale, 24, 16, f0, L.outScales.up);
    const mm = rms(g.map((z, i) => (z > 0 ? z * z : 0) * u[i]!), L.ffnSubNorm!, c.rmsEps);
    const d = linear(T.wDown, L.wDown.scale, 16, 24, fakeQuant(mm), L.outScales.down);
    const want0 = r0.map((v, i) => v + d[i]!);
    expect(maxAbsDiff(got0, want0)).toBeLessThan(1e-4);

    // Position 1 (RoPE and a real softmax) checked through the full-recompute oracle.
    const naive = naiveForward(tm, [4, 11]);
    const b = new ReferenceBackend(tm.weights);
    return b.forward([{ seq: b.createSequence(), tokens: [4, 11] }], { output: 'hidden' }).then(([hid]) => {
      expect(maxAbsDiff(hid!, naive.hidden.flat())).toBeLessThan(1e-4);
      expect(got1.length).toBe(16);
    });
  });

  it('RoPE helper (neox) rotates half-split pairs', () => {
    const cfg = tinyModel().weights.config;
    const r = ropeHead([1, 0, 0, 0], 1, cfg);
    expect(r[0]).toBeCloseTo(Math.cos(1), 12);
    expect(r[2]).toBeCloseTo(Math.sin(1), 12);
  });
});

describe('ReferenceBackend full forward', () => {
  const variants: Array<[string, TinyModelOptions]> = [
    ['bitnet-b1.58 GQA relu2', {}],
    ['MHA silu untied with .scale tensors', { nHeadKv: 4, activation: 'silu', untied: true, outScales: true, architecture: 'bitnet' }],
    ['MQA, normal rope, partial rotary', { nHeadKv: 1, ropeType: 'normal', ropeDim: 2 }],
    ['llama without sub-norms', { architecture: 'llama', subNorms: false, activation: 'silu', ropeType: 'normal' }],
  ];
  for (const [name, opts] of variants) {
    it(`matches full recompute: ${name}`, async () => {
      const tm = tinyModel({ ...opts, seed: 11 });
      const naive = naiveForward(tm, TOKENS);
      const b = new ReferenceBackend(tm.weights);
      const [all] = await b.forward([{ seq: b.createSequence(), tokens: TOKENS }], { output: 'all' });
      expect(all!.length).toBe(TOKENS.length * 24);
      expect(maxAbsDiff(all!, naive.logits.flat())).toBeLessThan(2e-4);
    });
  }

  it('incremental decode equals full-sequence prefill (bit-exact)', async () => {
    const tm = tinyModel({ seed: 3 });
    const b = new ReferenceBackend(tm.weights);
    const full = b.createSequence();
    const [all] = await b.forward([{ seq: full, tokens: TOKENS }], { output: 'all' });
    const inc = b.createSequence();
    await b.forward([{ seq: inc, tokens: TOKENS.slice(0, 3) }]);
    for (let i = 3; i < TOKENS.length; i++) {
      const [last] = await b.forward([{ seq: inc, tokens: [TOKENS[i]!] }]);
      expect(Array.from(last!)).toEqual(Array.from(all!.subarray(i * 24, (i + 1) * 24)));
    }
    expect(b.sequenceLength(inc)).toBe(TOKENS.length);
    // 'last' equals the last row of 'all'.
    const s3 = b.createSequence();
    const [last] = await b.forward([{ seq: s3, tokens: TOKENS }]);
    expect(Array.from(last!)).toEqual(Array.from(all!.subarray((TOKENS.length - 1) * 24)));
  });

  it('GQA equals MHA with the KV heads duplicated', async () => {
    const tm = tinyModel({ seed: 5, nHeadKv: 2 });
    const c = tm.weights.config;
    const dup = (m: TernaryMatrix, t: Int8Array): TernaryMatrix => {
      const rows: number[] = [];
      for (let h = 0; h < c.nHead; h++) {
        const kh = Math.floor(h / (c.nHead / c.nHeadKv));
        rows.push(...t.subarray(kh * c.headDim * c.nEmbd, (kh + 1) * c.headDim * c.nEmbd));
      }
      return packTernary(rows, c.nHead * c.headDim, c.nEmbd, m.scale);
    };
    const mha: ModelWeights = {
      ...tm.weights,
      config: { ...c, nHeadKv: c.nHead },
      layers: tm.weights.layers.map((l, i) => ({ ...l, wk: dup(l.wk, tm.ternary[i]!.wk), wv: dup(l.wv, tm.ternary[i]!.wv) })),
    };
    const a = new ReferenceBackend(tm.weights);
    const b = new ReferenceBackend(mha);
    const [la] = await a.forward([{ seq: a.createSequence(), tokens: TOKENS }], { output: 'all' });
    const [lb] = await b.forward([{ seq: b.createSequence(), tokens: TOKENS }], { output: 'all' });
    expect(Array.from(la!)).toEqual(Array.from(lb!));
  });

  it('a batch of sequences equals separate runs', async () => {
    const tm = tinyModel({ seed: 9 });
    const b = new ReferenceBackend(tm.weights);
    const prompts = [[1, 2, 3], [7], [20, 21, 22, 23, 4]];
    const solo: Float32Array[] = [];
    for (const p of prompts) {
      const s = b.createSequence();
      solo.push((await b.forward([{ seq: s, tokens: p }], { output: 'all' }))[0]!);
    }
    const seqs = prompts.map(() => b.createSequence());
    const batched = await b.forward(prompts.map((p, i) => ({ seq: seqs[i]!, tokens: p })), { output: 'all' });
    batched.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(solo[i]!)));
    // hidden output has nEmbd per token
    const h = await b.forward([{ seq: b.createSequence(), tokens: [1, 2] }], { output: 'hidden' });
    expect(h[0]!.length).toBe(2 * 16);
  });

  it('truncate then re-run reproduces the same logits', async () => {
    const tm = tinyModel({ seed: 2 });
    const b = new ReferenceBackend(tm.weights);
    const s = b.createSequence();
    const [first] = await b.forward([{ seq: s, tokens: TOKENS }]);
    b.truncateSequence(s, 4);
    expect(b.sequenceLength(s)).toBe(4);
    const [again] = await b.forward([{ seq: s, tokens: TOKENS.slice(4) }]);
    expect(Array.from(again!)).toEqual(Array.from(first!));
  });
});

describe('ReferenceBackend errors', () => {
  it('CONTEXT_OVERFLOW is checked before appending', async () => {
    const tm = tinyModel();
    const b = new ReferenceBackend(tm.weights, { maxContext: 8 });
    const s = b.createSequence();
    const other = b.createSequence();
    await b.forward([{ seq: s, tokens: [1, 2, 3, 4, 5, 6] }]);
    await expectCode(b.forward([{ seq: other, tokens: [1] }, { seq: s, tokens: [1, 2, 3] }]), 'CONTEXT_OVERFLOW');
    expect(b.sequenceLength(s)).toBe(6);
    expect(b.sequenceLength(other)).toBe(0);
    // Two items for the same sequence count together.
    await expectCode(b.forward([{ seq: s, tokens: [1] }, { seq: s, tokens: [1, 2] }]), 'CONTEXT_OVERFLOW');
    await b.forward([{ seq: s, tokens: [7, 8] }]);
    expect(b.sequenceLength(s)).toBe(8);
    await expectCode(b.forward([{ seq: s, tokens: [1] }]), 'CONTEXT_OVERFLOW');
  });

  it('BAD_INPUT for bad token ids, unknown or freed sequences, empty input', async () => {
    const b = new ReferenceBackend(tinyModel().weights);
    const s = b.createSequence();
    await expectCode(b.forward([{ seq: s, tokens: [24] }]), 'BAD_INPUT');
    await expectCode(b.forward([{ seq: s, tokens: [-1] }]), 'BAD_INPUT');
    await expectCode(b.forward([{ seq: s, tokens: [1.5] }]), 'BAD_INPUT');
    await expectCode(b.forward([{ seq: s, tokens: [] }]), 'BAD_INPUT');
    await expectCode(b.forward([{ seq: 999, tokens: [1] }]), 'BAD_INPUT');
    b.freeSequence(s);
    b.freeSequence(s); // ignored
    await expectCode(b.forward([{ seq: s, tokens: [1] }]), 'BAD_INPUT');
    await expectCode(b.forward([{ seq: b.createSequence(), tokens: [1] }], { output: 'nope' as 'all' }), 'BAD_OPTION');
  });

  it('abort leaves the sequence unchanged; DISPOSED after dispose', async () => {
    const b = new ReferenceBackend(tinyModel().weights);
    const s = b.createSequence();
    const ac = new AbortController();
    ac.abort();
    await expect(b.forward([{ seq: s, tokens: [1, 2] }], { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(b.sequenceLength(s)).toBe(0);
    await b.dispose();
    await expectCode(b.forward([{ seq: s, tokens: [1] }]), 'DISPOSED');
    await expectCode(async () => b.createSequence(), 'DISPOSED');
  });

  it('rejects inconsistent weights', async () => {
    const tm = tinyModel();
    const bad: ModelWeights = { ...tm.weights, config: { ...tm.weights.config, nHeadKv: 3 } };
    await expectCode(async () => new ReferenceBackend(bad), 'BAD_CONFIG');
    const bad2: ModelWeights = { ...tm.weights, layers: tm.weights.layers.map((l) => ({ ...l, attnSubNorm: null })) };
    await expectCode(async () => new ReferenceBackend(bad2), 'MISSING_TENSOR');
    await expectCode(async () => new ReferenceBackend(tm.weights, { maxContext: 0 }), 'BAD_OPTION');
  });

  it('factory creates a working backend', async () => {
    const f = createReferenceBackendFactory();
    expect(f.name).toBe('reference');
    expect(await f.unavailableReason()).toBeNull();
    const phases: string[] = [];
    const b = await f.create(tinyModel().weights, { onProgress: (p, x) => phases.push(`${p}:${x}`) });
    expect(b.name).toBe('reference');
    expect(phases).toEqual(['repack:0', 'repack:1']);
  });
});

describe('KVCache', () => {
  it('grows by doubling, keeps contents, enforces maxLength, truncates', () => {
    const c = new KVCache(2, 3, 10, 2);
    expect(c.byteLength).toBe(2 * 2 * 2 * 3 * 4);
    for (let p = 0; p < 7; p++) {
      c.reserve(1);
      c.write(0, p, [p, p, p], [-p, -p, -p]);
      c.write(1, p, [10 + p, 0, 0], [0, 0, 0]);
      c.commit(1);
    }
    expect(c.length).toBe(7);
    expect(c.byteLength).toBe(2 * 2 * 8 * 3 * 4);
    expect(Array.from(c.keys(0).subarray(0, 21))).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6]);
    expect(c.values(0)[6 * 3]).toBe(-6);
    expect(c.keys(1)[3 * 3]).toBe(13);
    expect(() => c.reserve(4)).toThrow(expect.objectContaining({ code: 'CONTEXT_OVERFLOW' }));
    c.reserve(3);
    expect(c.remaining).toBe(3);
    c.truncate(2);
    expect(c.length).toBe(2);
    c.truncate(5); // no-op when longer
    expect(c.length).toBe(2);
    expect(() => c.truncate(-1)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });

  it('a long sequence (cache growth inside the backend) still matches prefill vs decode', async () => {
    const tm = tinyModel({ seed: 8, contextLength: 160, nLayer: 1 });
    const b = new ReferenceBackend(tm.weights);
    const toks = Array.from({ length: 100 }, (_, i) => (i * 7) % 24);
    const [all] = await b.forward([{ seq: b.createSequence(), tokens: toks }], { output: 'all' });
    const s = b.createSequence();
    await b.forward([{ seq: s, tokens: toks.slice(0, 60) }]);
    for (let i = 60; i < 100; i += 8) {
      const [last] = await b.forward([{ seq: s, tokens: toks.slice(i, i + 8) }]);
      expect(Array.from(last!)).toEqual(Array.from(all!.subarray((i + 7) * 24, (i + 8) * 24)));
    }
  });
});
