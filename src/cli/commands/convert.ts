/**
 * `bitnet convert <hf-dir> <out.gguf> [--type i2_s|tq2_0|tq1_0]`
 * Converts a Hugging Face BitNet checkpoint to GGUF through `src/model/hf-convert.ts`
 * (`convertHFCheckpoint(dir, out, { type, onProgress })`), loaded on demand so the CLI works before
 * (and without) the converter module.
 */
import { BitNetError } from '../../errors.js';
import { badOption, getString, parseArgs } from '../args.js';
import { createProgress, type CliIO } from '../io.js';

const SPEC = { type: 'string' } as const;
const TYPES = ['i2_s', 'tq2_0', 'tq1_0'] as const;
type ConvertType = (typeof TYPES)[number];

export const CONVERT_USAGE = 'bitnet convert <hf-dir> <out.gguf> [--type i2_s|tq2_0|tq1_0]';

interface ConverterModule {
  convertHFCheckpoint(dir: string, out: string, options: { type: ConvertType; onProgress?: (...args: unknown[]) => void; signal?: AbortSignal }): Promise<unknown>;
}

async function loadConverter(): Promise<ConverterModule> {
  // A computed specifier keeps the compiler and bundlers from requiring the module to exist.
  const spec = ['..', '..', 'model', 'hf-convert.js'].join('/');
  let mod: Partial<ConverterModule>;
  try {
    mod = (await import(/* @vite-ignore */ spec)) as Partial<ConverterModule>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = String((e as Error)?.message ?? '');
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && msg.includes('hf-convert')) {
      throw new BitNetError('FEATURE_UNAVAILABLE', 'the Hugging Face converter is not part of this build (src/model/hf-convert.ts is missing)');
    }
    throw e;
  }
  if (typeof mod.convertHFCheckpoint !== 'function') {
    throw new BitNetError('FEATURE_UNAVAILABLE', 'src/model/hf-convert.ts does not export convertHFCheckpoint');
  }
  return mod as ConverterModule;
}

/** Accepts (fraction, label?), ({ fraction, message? }) or (done, total) progress callbacks. */
function progressOf(args: unknown[]): { fraction: number; label: string } | null {
  const [a, b] = args;
  if (typeof a === 'number' && typeof b === 'number') return { fraction: b > 0 ? a / b : 0, label: 'converting' };
  if (typeof a === 'number') return { fraction: a, label: typeof b === 'string' ? b : 'converting' };
  if (a && typeof a === 'object' && typeof (a as { fraction?: unknown }).fraction === 'number') {
    const o = a as { fraction: number; message?: unknown; phase?: unknown };
    const label = typeof o.message === 'string' ? o.message : typeof o.phase === 'string' ? o.phase : 'converting';
    return { fraction: o.fraction, label };
  }
  return null;
}

export async function runConvert(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs(argv, SPEC, 2);
  const [dir, out] = a.positionals;
  if (dir === undefined || out === undefined) throw badOption('convert', `usage: ${CONVERT_USAGE}`);
  const type = (getString(a, 'type') ?? 'i2_s').toLowerCase();
  if (!(TYPES as readonly string[]).includes(type)) throw badOption('type', `--type: expected ${TYPES.join(' | ')}, got ${type}`);
  const convert = await loadConverter();
  const progress = createProgress(io.stderr);
  try {
    await convert.convertHFCheckpoint(dir, out, {
      type: type as ConvertType,
      onProgress: (...args) => {
        const p = progressOf(args);
        if (p) progress.update(p.label, p.fraction);
      },
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } finally {
    progress.done();
  }
  return 0;
}
