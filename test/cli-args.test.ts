import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getFloat, getIdList, getInt, getMulti, parseArgs } from '../src/cli/args.js';
import { formatError, toJson, type CliIO } from '../src/cli/io.js';
import { main } from '../src/cli/main.js';
import { topLogits } from '../src/cli/commands/logits.js';
import { listBackendFactories, registerBackendFactory, selectBackendFactory, unregisterBackendFactory } from '../src/backends/registry.js';
import { BitNetError, isBitNetError } from '../src/errors.js';

function capture(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

function optionOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isBitNetError(e, 'BAD_OPTION')) return String(e.details?.['option']);
    throw e;
  }
  return undefined;
}

describe('parseArgs', () => {
  const spec = { model: 'string', json: 'boolean', stop: 'multi', n: 'string' } as const;

  it('parses values, flags, = syntax, repeated multi options and positionals', () => {
    const a = parseArgs(['--model', 'm.gguf', '--json', '--stop=a', '--stop', 'b', 'pos', '--n=-3'], spec, 1);
    expect(a.values.get('model')).toBe('m.gguf');
    expect(a.values.get('json')).toBe(true);
    expect(getMulti(a, 'stop')).toEqual(['a', 'b']);
    expect(a.positionals).toEqual(['pos']);
    expect(getInt(a, 'n')).toBe(-3);
    expect(parseArgs(['--', '--json'], spec, 1).positionals).toEqual(['--json']);
  });

  it('rejects unknown options, missing values, duplicates and stray arguments', () => {
    expect(optionOf(() => parseArgs(['--nope'], spec))).toBe('nope');
    expect(optionOf(() => parseArgs(['--model'], spec))).toBe('model');
    expect(optionOf(() => parseArgs(['--model', '--json'], spec))).toBe('model');
    expect(optionOf(() => parseArgs(['--model', 'a', '--model', 'b'], spec))).toBe('model');
    expect(optionOf(() => parseArgs(['--json=1'], spec))).toBe('json');
    expect(optionOf(() => parseArgs(['extra'], spec))).toBe('extra');
    expect(optionOf(() => parseArgs(['-x'], spec))).toBe('-x');
  });

  it('parses numbers strictly', () => {
    const p = (v: string): ReturnType<typeof parseArgs> => parseArgs(['--n', v], spec);
    expect(getFloat(p('0.5'), 'n')).toBe(0.5);
    expect(getFloat(p('1e-3'), 'n')).toBe(0.001);
    expect(optionOf(() => getFloat(p('abc'), 'n'))).toBe('n');
    expect(optionOf(() => getFloat(p('1.2.3'), 'n'))).toBe('n');
    expect(optionOf(() => getFloat(p(''), 'n'))).toBe('n');
    expect(optionOf(() => getInt(p('1.5'), 'n'))).toBe('n');
    expect(optionOf(() => getInt(p('12abc'), 'n'))).toBe('n');
    expect(optionOf(() => getInt(p('-1'), 'n', 0))).toBe('n');
    expect(getIdList(p('1, 2,3'), 'n')).toEqual([1, 2, 3]);
    expect(optionOf(() => getIdList(p('1,,2'), 'n'))).toBe('n');
    expect(optionOf(() => getIdList(p('1,-2'), 'n'))).toBe('n');
    expect(optionOf(() => getIdList(p('x'), 'n'))).toBe('n');
  });
});

describe('cli helpers', () => {
  it('formats errors as one line with exit status', () => {
    expect(formatError(new BitNetError('BAD_OPTION', 'bad\nthing'))).toEqual({ line: 'bitnet: BAD_OPTION: bad thing', status: 2 });
    expect(formatError(new BitNetError('IO', 'x')).status).toBe(1);
    expect(formatError(Object.assign(new Error('stop'), { name: 'AbortError' })).status).toBe(130);
    expect(formatError(new TypeError('boom')).line).toBe('bitnet: INTERNAL: boom');
  });

  it('serializes bigint, typed arrays and maps', () => {
    expect(toJson({ a: 2n ** 60n, b: Float32Array.of(1, 2), c: new Map([['k', 1]]) })).toBe('{"a":"1152921504606846976","b":[1,2],"c":{"k":1}}');
  });

  it('topLogits sorts descending with lower-id ties', () => {
    expect(topLogits(Float32Array.of(1, 5, 5, -2), 3)).toEqual([[1, 5], [2, 5], [0, 1]]);
  });
});

describe('main (in process, no model needed)', () => {
  const cases: Array<[string[], string]> = [
    [['frobnicate'], 'BAD_OPTION'],
    [['generate', '--prompt', 'x'], 'BAD_OPTION'], // no --model
    [['generate', '--model', 'm.gguf'], 'BAD_OPTION'], // no prompt
    [['generate', '--model', 'm.gguf', '--prompt', 'x', '--prompt-tokens', '1'], 'BAD_OPTION'],
    [['generate', '--model', 'm.gguf', '--prompt', 'x', '--temperature', 'hot'], 'BAD_OPTION'],
    [['generate', '--model', 'm.gguf', '--prompt', 'x', '--temperature', '-1'], 'BAD_OPTION'],
    [['generate', '--model', 'm.gguf', '--prompt', 'x', '--top-p', '2'], 'BAD_OPTION'],
    [['generate', '--model', 'm.gguf', '--prompt', 'x', '--max-tokens', '-5'], 'BAD_OPTION'],
    [['generate', '--model', 'm.gguf', '--prompt', 'x', '--max-tokens'], 'BAD_OPTION'],
    [['generate', '--model', 'm.gguf', '--prompt', 'x', '--bogus'], 'BAD_OPTION'],
    [['generate', '--model', 'm.gguf', '--prompt', 'x', '--backend', 'cuda'], 'BAD_OPTION'],
    [['logits', '--model', 'm.gguf'], 'BAD_OPTION'],
    [['logits', '--model', 'm.gguf', '--prompt-tokens', '1', '--top', '0'], 'BAD_OPTION'],
    [['tokenize', '--model', 'm.gguf'], 'BAD_OPTION'],
    [['tokenize', '--model', 'm.gguf', '--text', 'a', '--json-input', 'f'], 'BAD_OPTION'],
    [['inspect'], 'BAD_OPTION'],
    [['inspect', 'a', 'b'], 'BAD_OPTION'],
    [['convert', 'dir'], 'BAD_OPTION'],
    [['convert', 'dir', 'out.gguf', '--type', 'q4_0'], 'BAD_OPTION'],
    [['generate', '--model', '/nonexistent/model.gguf', '--prompt', 'x'], 'IO'],
  ];
  for (const [argv, code] of cases) {
    it(`${argv.join(' ')} → ${code}`, async () => {
      const io = capture();
      const status = await main(argv, io);
      expect(status).not.toBe(0);
      expect(status).toBe(code === 'BAD_OPTION' ? 2 : 1);
      expect(io.out()).toBe('');
      const lines = io.err().split('\n').filter(Boolean);
      expect(lines.length).toBe(1);
      expect(lines[0]).toMatch(new RegExp(`^bitnet: ${code}: \\S`));
    });
  }

  it('help prints usage and exits 0', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toContain('bitnet generate');
    const io2 = capture();
    expect(await main([], io2)).toBe(2);
  });
});

describe('backend registry', () => {
  // Isolate from the factories the package registers (wasm, webgpu): test fakes only.
  let saved: ReturnType<typeof listBackendFactories> = [];
  beforeEach(() => {
    saved = listBackendFactories().filter((f) => f.name !== 'reference');
    for (const f of saved) unregisterBackendFactory(f.name);
  });
  afterEach(() => {
    unregisterBackendFactory('wasm');
    for (const f of saved) registerBackendFactory(f);
  });

  it('auto picks the highest-priority available factory; named unavailable ones fail clearly', async () => {
    expect((await selectBackendFactory('auto')).name).toBe('reference');
    let reason: string | null = 'no SIMD here';
    registerBackendFactory({
      name: 'wasm', priority: 10, unavailableReason: async () => reason,
      create: async () => { throw new Error('unused'); },
    });
    expect(listBackendFactories().map((f) => f.name)).toEqual(['wasm', 'reference']);
    expect((await selectBackendFactory('auto')).name).toBe('reference');
    await expect(selectBackendFactory('wasm')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringContaining('no SIMD here') });
    reason = null;
    expect((await selectBackendFactory('auto')).name).toBe('wasm');
    await expect(selectBackendFactory('webgpu')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
