/**
 * Strict command-line option parsing for the `bitnet` CLI. `--name value` and `--name=value`;
 * boolean flags take no value; `multi` options may repeat. Anything unknown, a missing value, or a
 * malformed number is a BitNetError BAD_OPTION naming the option.
 */
import { BitNetError } from '../errors.js';

export type OptionKind = 'string' | 'boolean' | 'multi';

export interface ParsedArgs {
  readonly values: ReadonlyMap<string, string | true | string[]>;
  readonly positionals: readonly string[];
}

function badOption(option: string, message: string): BitNetError {
  return new BitNetError('BAD_OPTION', message, { details: { option } });
}

/** Parses `argv` against `spec` (option name without dashes → kind). */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionKind>>, maxPositionals = 0): ParsedArgs {
  const values = new Map<string, string | true | string[]>();
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || !arg.startsWith('--') || arg === '--') {
      if (arg === '--' && !onlyPositionals) {
        onlyPositionals = true;
        continue;
      }
      if (arg.startsWith('-') && arg.length > 1 && !onlyPositionals) throw badOption(arg, `unknown option ${arg}`);
      if (positionals.length >= maxPositionals) throw badOption(arg, `unexpected argument ${JSON.stringify(arg)}`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const kind = spec[name];
    if (!kind) throw badOption(name, `unknown option --${name}`);
    if (kind === 'boolean') {
      if (eq >= 0) throw badOption(name, `--${name} takes no value`);
      values.set(name, true);
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw badOption(name, `--${name} needs a value`);
      value = next;
      i++;
    }
    if (kind === 'multi') {
      const prev = values.get(name);
      values.set(name, Array.isArray(prev) ? [...prev, value] : [value]);
    } else {
      if (values.has(name)) throw badOption(name, `--${name} given more than once`);
      values.set(name, value);
    }
  }
  return { values, positionals };
}

export function getString(a: ParsedArgs, name: string): string | undefined {
  const v = a.values.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function requireString(a: ParsedArgs, name: string): string {
  const v = getString(a, name);
  if (v === undefined) throw badOption(name, `--${name} is required`);
  return v;
}

export function getFlag(a: ParsedArgs, name: string): boolean {
  return a.values.get(name) === true;
}

export function getMulti(a: ParsedArgs, name: string): string[] {
  const v = a.values.get(name);
  return Array.isArray(v) ? v : [];
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Integer option within [min, max]. */
export function getInt(a: ParsedArgs, name: string, min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = getString(a, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!INT_RE.test(v.trim()) || !Number.isSafeInteger(n)) throw badOption(name, `--${name}: expected an integer, got ${JSON.stringify(v)}`);
  if (n < min || n > max) throw badOption(name, `--${name}: ${n} is outside [${min}, ${max}]`);
  return n;
}

/** Finite number option. */
export function getFloat(a: ParsedArgs, name: string): number | undefined {
  const v = getString(a, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!FLOAT_RE.test(v.trim()) || !Number.isFinite(n)) throw badOption(name, `--${name}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

/** Comma-separated non-negative integer list (e.g. `--prompt-tokens 1,2,3`). */
export function getIdList(a: ParsedArgs, name: string): number[] | undefined {
  const v = getString(a, name);
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p) || !Number.isSafeInteger(Number(p)))) {
    throw badOption(name, `--${name}: expected comma-separated token ids, got ${JSON.stringify(v)}`);
  }
  return parts.map(Number);
}

export { badOption };
