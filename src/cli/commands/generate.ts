/**
 * `bitnet generate --model <path|url|default> (--prompt TEXT | --prompt-tokens 1,2,3)
 *   [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--repetition-penalty R]
 *   [--seed S] [--stop TEXT]... [--backend auto|reference|wasm|webgpu] [--json]`
 *
 * Without --json the text streams to stdout as it is generated. With --json one object is printed:
 * { text, tokens, promptTokens, backend, stats: { promptTokens, generatedTokens, ttftMs,
 *   prefillTokensPerS, decodeTokensPerS } }.
 */
import { generate, type GenerateOptions } from '../../runtime/generate.js';
import { resolveSamplingOptions } from '../../runtime/sampler.js';
import { badOption, getFlag, getFloat, getIdList, getInt, getMulti, getString, parseArgs, requireString } from '../args.js';
import { printJson, type CliIO } from '../io.js';
import { openSession } from '../session.js';

const SPEC = {
  model: 'string', prompt: 'string', 'prompt-tokens': 'string', 'max-tokens': 'string', temperature: 'string',
  'top-k': 'string', 'top-p': 'string', 'min-p': 'string', 'repetition-penalty': 'string', seed: 'string',
  stop: 'multi', backend: 'string', json: 'boolean',
} as const;

export const GENERATE_USAGE =
  'bitnet generate --model <path|url|default> (--prompt TEXT | --prompt-tokens 1,2,3) [--max-tokens N] [--temperature T] ' +
  '[--top-k K] [--top-p P] [--min-p P] [--repetition-penalty R] [--seed S] [--stop TEXT]... [--backend auto|reference|wasm|webgpu] [--json]';

export async function runGenerate(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs(argv, SPEC);
  const modelSpec = requireString(a, 'model');
  const prompt = getString(a, 'prompt');
  const promptTokens = getIdList(a, 'prompt-tokens');
  if ((prompt === undefined) === (promptTokens === undefined)) throw badOption('prompt', 'give exactly one of --prompt / --prompt-tokens');
  const opts: GenerateOptions = {
    ...(prompt !== undefined ? { prompt } : { promptTokens: promptTokens! }),
    maxTokens: getInt(a, 'max-tokens', 0) ?? 128,
    ...numeric('temperature', getFloat(a, 'temperature')),
    ...numeric('topK', getInt(a, 'top-k', 0)),
    ...numeric('topP', getFloat(a, 'top-p')),
    ...numeric('minP', getFloat(a, 'min-p')),
    ...numeric('repetitionPenalty', getFloat(a, 'repetition-penalty')),
    ...numeric('seed', getInt(a, 'seed')),
    stop: getMulti(a, 'stop'),
    onAbort: 'throw',
    ...(io.signal ? { signal: io.signal } : {}),
  };
  resolveSamplingOptions(opts); // reject bad sampling options before loading anything
  const json = getFlag(a, 'json');
  const session = await openSession(io, modelSpec, getString(a, 'backend') ?? 'auto');
  try {
    const backend = session.backend;
    const tokenizer = session.model.tokenizer;
    const promptIds = promptTokens ?? tokenizer.encode(prompt!, { parseSpecial: true });
    const it = generate(backend, tokenizer, { ...opts, prompt: undefined, promptTokens: promptIds });
    let text = '';
    const tokens: number[] = [];
    for (;;) {
      const r = await it.next();
      if (r.done) {
        const s = r.value;
        if (json) {
          printJson(io, {
            text,
            tokens,
            promptTokens: promptIds,
            backend: backend.name,
            stats: {
              promptTokens: s.promptTokens,
              generatedTokens: s.generatedTokens,
              ttftMs: s.ttftMs,
              prefillTokensPerS: s.prefillTokensPerS,
              decodeTokensPerS: s.decodeTokensPerS,
            },
          });
        } else {
          if (io.stdout.isTTY && !text.endsWith('\n')) io.stdout.write('\n');
          if (io.stderr.isTTY) {
            io.stderr.write(
              `bitnet: ${s.promptTokens} prompt tokens, ${s.generatedTokens} generated (${s.finishReason}); ` +
                `ttft ${s.ttftMs.toFixed(0)} ms, prefill ${s.prefillTokensPerS.toFixed(1)} tok/s, decode ${s.decodeTokensPerS.toFixed(1)} tok/s [${backend.name}]\n`,
            );
          }
        }
        return 0;
      }
      text += r.value.text;
      tokens.push(...r.value.tokenIds);
      if (!json && r.value.text) io.stdout.write(r.value.text);
    }
  } finally {
    await session.close();
  }
}

function numeric<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, number>);
}
