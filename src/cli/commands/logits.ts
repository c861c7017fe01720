/**
 * `bitnet logits --model <path|url|default> --prompt-tokens 1,2,3 [--backend ...] [--top K]`
 * Runs the prompt and prints the K (default 10) largest next-token logits of its last position:
 * { "top": [[id, logit], ...] }, highest first (ties → lower id).
 */
import { getIdList, getInt, getString, parseArgs, requireString, badOption } from '../args.js';
import { printJson, type CliIO } from '../io.js';
import { openSession } from '../session.js';

const SPEC = { model: 'string', 'prompt-tokens': 'string', backend: 'string', top: 'string' } as const;

export const LOGITS_USAGE = 'bitnet logits --model <path|url|default> --prompt-tokens 1,2,3 [--backend auto|reference|wasm|webgpu] [--top K]';

/** The k largest entries as [index, value], descending, ties → lower index. */
export function topLogits(logits: Float32Array, k: number): Array<[number, number]> {
  const ids = Array.from({ length: logits.length }, (_, i) => i);
  ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
  return ids.slice(0, k).map((i) => [i, logits[i]!]);
}

export async function runLogits(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs(argv, SPEC);
  const modelSpec = requireString(a, 'model');
  const tokens = getIdList(a, 'prompt-tokens');
  if (tokens === undefined) throw badOption('prompt-tokens', '--prompt-tokens is required');
  const top = getInt(a, 'top', 1) ?? 10;
  const session = await openSession(io, modelSpec, getString(a, 'backend') ?? 'auto');
  try {
    const b = session.backend;
    const seq = b.createSequence();
    const [logits] = await b.forward([{ seq, tokens }], { ...(io.signal ? { signal: io.signal } : {}) });
    b.freeSequence(seq);
    printJson(io, { top: topLogits(logits!, top) });
    return 0;
  } finally {
    await session.close();
  }
}
