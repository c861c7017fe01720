/**
 * `bitnet generate --model <path|url|default> (--prompt TEXT | --prompt-tokens 1,2,3)
 *   [--max-tokens N] [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--repetition-penalty R]
 *   [--seed S] [--stop TEXT]... [--backend auto|reference|wasm|webgpu] [--json]`
 *
 * Runs on the public engine API (`createEngine` + `engine.generate`, in-process). Without --json the
 * text streams to stdout as it is generated (and, when stderr is a terminal, one statistics line
 * follows on stderr). With --json one object is printed:
 * { text, tokens, promptTokens, backend, stats: { promptTokens, generatedTokens, ttftMs,
 *   prefillTokensPerS, decodeTokensPerS } }. `tokens` includes a final stop token (EOS / EOT) when
 * one ended generation; its text is not part of `text`.
 */
import type { GenerateOptions } from '../../api/options.js';
import { validateGenerateOptions } from '../../api/options.js';
import { badOption, getFlag, getFloat, getIdList, getInt, getMulti, getString, parseArgs, requireString } from '../args.js';
import { openEngine } from '../engine-session.js';
import { printJson, type CliIO } from '../io.js';

const SPEC = {
  model: 'string', prompt: 'string', 'prompt-tokens': 'string', 'max-tokens': 'string', temperature: 'string',
  'top-k': 'string', 'top-p': 'string', 'min-p': 'string', 'repetition-penalty': 'string', seed: 'string',
  stop: 'multi', backend: 'string', json: 'boolean',
} as const;

export const GENERATE_USAGE =
  'bitnet generate --model <path|url|default> (--prompt TEXT | --prompt-tokens 1,2,3) [--max-tokens N] [--temperature T] ' +
  '[--top-k K] [--top-p P] [--min-p P] [--repetition-penalty R] [--seed S] [--stop TEXT]... [--backend auto|reference|wasm|webgpu] [--json]';

/** Maps an engine option name back to its CLI flag in BAD_OPTION errors (`topP` → `--top-p`). */
const FLAG_OF: Readonly<Record<string, string>> = {
  maxTokens: 'max-tokens', temperature: 'temperature', topK: 'top-k', topP: 'top-p', minP: 'min-p',
  repetitionPenalty: 'repetition-penalty', seed: 'seed', stop: 'stop',
};

export async function runGenerate(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs(argv, SPEC);
  const modelSpec = requireString(a, 'model');
  const prompt = getString(a, 'prompt');
  const promptTokens = getIdList(a, 'prompt-tokens');
  if ((prompt === undefined) === (promptTokens === undefined)) throw badOption('prompt', 'give exactly one of --prompt / --prompt-tokens');
  const options: GenerateOptions = {
    maxTokens: getInt(a, 'max-tokens', 0) ?? 128,
    ...numeric('temperature', getFloat(a, 'temperature')),
    ...numeric('topK', getInt(a, 'top-k', 0)),
    ...numeric('topP', getFloat(a, 'top-p')),
    ...numeric('minP', getFloat(a, 'min-p')),
    ...numeric('repetitionPenalty', getFloat(a, 'repetition-penalty')),
    ...numeric('seed', getInt(a, 'seed')),
    ...(getMulti(a, 'stop').length > 0 ? { stop: getMulti(a, 'stop') } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
  };
  checkOptions(options); // reject bad sampling options before loading anything
  const json = getFlag(a, 'json');
  const engine = await openEngine(io, modelSpec, getString(a, 'backend') ?? 'auto');
  try {
    const promptIds = promptTokens ?? (await engine.tokenize(prompt!));
    let text = '';
    const tokens: number[] = [];
    for await (const chunk of engine.generate(promptIds, options)) {
      tokens.push(...chunk.tokenIds);
      if (!chunk.done) {
        text += chunk.text;
        if (!json && chunk.text) io.stdout.write(chunk.text);
        continue;
      }
      const s = chunk.stats;
      if (json) {
        const stats = { promptTokens: s.promptTokens, generatedTokens: s.generatedTokens, ttftMs: s.ttftMs, prefillTokensPerS: s.prefillTokensPerS, decodeTokensPerS: s.decodeTokensPerS };
        printJson(io, { text, tokens, promptTokens: promptIds, backend: s.backend, stats });
      } else {
        if (io.stdout.isTTY && !text.endsWith('\n')) io.stdout.write('\n');
        if (io.stderr.isTTY) {
          io.stderr.write(
            `bitnet: ${s.promptTokens} prompt tokens, ${s.generatedTokens} generated (${s.finishReason}); ` +
              `ttft ${s.ttftMs.toFixed(0)} ms, prefill ${s.prefillTokensPerS.toFixed(1)} tok/s, decode ${s.decodeTokensPerS.toFixed(1)} tok/s [${s.backend}]\n`,
          );
        }
      }
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}

/** The engine's own option validation, with the CLI flag named in the error. @throws BitNetError BAD_OPTION */
export function checkOptions(options: GenerateOptions): void {
  try {
    validateGenerateOptions(options);
  } catch (e) {
    const option = (e as { details?: { option?: unknown } }).details?.option;
    if (typeof option === 'string' && FLAG_OF[option]) throw badOption(FLAG_OF[option]!, `--${FLAG_OF[option]}: ${(e as Error).message.replace(/^\w+: /, '')}`);
    throw e;
  }
}

/** `{ [key]: v }`, or `{}` when the flag was not given. */
export function numeric<K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined ? {} : ({ [key]: v } as Record<K, number>);
}
