/**
 * `bitnet tokenize --model <path|url|default> (--text TEXT | --json-input FILE) [--bos] [--parse-special]`
 * --text prints one JSON array of ids; --json-input FILE (a JSON array of strings) prints a JSON
 * array of id arrays, in input order. No BOS unless --bos; special-token text (e.g. `<|eot_id|>`)
 * is plain text unless --parse-special. Only the GGUF metadata is read, not the weights.
 */
import { BitNetError } from '../../errors.js';
import { openModelFile } from '../../model/load-model.js';
import { createTokenizer } from '../../model/tokenizer/index.js';
import { badOption, getFlag, getString, parseArgs, requireString } from '../args.js';
import { printJson, readJsonFile, type CliIO } from '../io.js';

const SPEC = { model: 'string', text: 'string', 'json-input': 'string', bos: 'boolean', 'parse-special': 'boolean' } as const;

export const TOKENIZE_USAGE = 'bitnet tokenize --model <path|url|default> (--text TEXT | --json-input FILE) [--bos] [--parse-special]';

async function readInputs(path: string): Promise<string[]> {
  const v = await readJsonFile(path);
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new BitNetError('BAD_INPUT', `${path} must hold a JSON array of strings`);
  return v as string[];
}

export async function runTokenize(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs(argv, SPEC);
  const modelSpec = requireString(a, 'model');
  const text = getString(a, 'text');
  const input = getString(a, 'json-input');
  if ((text === undefined) === (input === undefined)) throw badOption('text', 'give exactly one of --text / --json-input');
  const texts = input !== undefined ? await readInputs(input) : [text!];
  const opts = { addBos: getFlag(a, 'bos'), addEos: false, parseSpecial: getFlag(a, 'parse-special') };
  const file = await openModelFile(modelSpec, io.signal ? { signal: io.signal } : {});
  try {
    const tok = createTokenizer(file.metadata, { onWarning: (m) => io.stderr.write(`bitnet: warning: ${m}\n`) });
    const ids = texts.map((t) => tok.encode(t, opts));
    printJson(io, input !== undefined ? ids : ids[0]);
    return 0;
  } finally {
    await file.close();
  }
}
