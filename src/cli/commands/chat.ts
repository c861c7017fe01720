/**
 * `bitnet chat --model <path|url|default> (--user TEXT | --messages FILE) [--system TEXT]
 *   [--max-tokens N] [--temperature T] [--top-p P] [--seed S] [--stop TEXT]... [--backend ...] [--json]`
 *
 * One chat turn through the OpenAI-compatible API (`engine.chat.completions.create`), rendered with
 * the model's chat format. Messages: `--system` first, then the JSON array of `{ role, content }`
 * in FILE (earlier turns), then `--user`. Without --json the assistant's reply streams to stdout
 * (`stream: true`); with --json the `chat.completion` object is printed (choices, usage, stats).
 * Without --max-tokens the reply runs until the model ends its turn or the context is full.
 */
import type { ChatCompletionCreateParams, ChatCompletionMessageParam } from '../../api/chat.js';
import { BitNetError } from '../../errors.js';
import { badOption, getFlag, getFloat, getInt, getMulti, getString, parseArgs, requireString } from '../args.js';
import { openEngine } from '../engine-session.js';
import { printJson, readJsonFile, type CliIO } from '../io.js';
import { checkOptions, numeric } from './generate.js';

const SPEC = {
  model: 'string', user: 'string', system: 'string', messages: 'string', 'max-tokens': 'string', temperature: 'string',
  'top-p': 'string', seed: 'string', stop: 'multi', backend: 'string', json: 'boolean',
} as const;

export const CHAT_USAGE =
  'bitnet chat --model <path|url|default> (--user TEXT | --messages FILE) [--system TEXT] [--max-tokens N] [--temperature T] ' +
  '[--top-p P] [--seed S] [--stop TEXT]... [--backend auto|reference|wasm|webgpu] [--json]';

/** Reads a JSON array of `{ role, content }` messages. @throws BitNetError IO / BAD_INPUT */
async function readMessages(path: string): Promise<ChatCompletionMessageParam[]> {
  const v = await readJsonFile(path);
  if (!Array.isArray(v) || v.some((m) => typeof m !== 'object' || m === null || typeof (m as { role?: unknown }).role !== 'string')) {
    throw new BitNetError('BAD_INPUT', `${path}: expected a JSON array of { "role": ..., "content": ... } objects`);
  }
  return v as ChatCompletionMessageParam[];
}

export async function runChat(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs(argv, SPEC);
  const modelSpec = requireString(a, 'model');
  const user = getString(a, 'user');
  const file = getString(a, 'messages');
  if (user === undefined && file === undefined) throw badOption('user', 'give --user and/or --messages');
  const maxTokens = getInt(a, 'max-tokens', 0);
  const temperature = getFloat(a, 'temperature');
  const topP = getFloat(a, 'top-p');
  const seed = getInt(a, 'seed');
  const stop = getMulti(a, 'stop');
  checkOptions({ ...numeric('maxTokens', maxTokens), ...numeric('temperature', temperature), ...numeric('topP', topP), ...numeric('seed', seed), ...(stop.length > 0 ? { stop } : {}) });
  const system = getString(a, 'system');
  const messages: ChatCompletionMessageParam[] = [
    ...(system !== undefined ? [{ role: 'system' as const, content: system }] : []),
    ...(file !== undefined ? await readMessages(file) : []),
    ...(user !== undefined ? [{ role: 'user' as const, content: user }] : []),
  ];
  const params: ChatCompletionCreateParams = {
    messages,
    ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { top_p: topP } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(stop.length > 0 ? { stop } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
  };
  const json = getFlag(a, 'json');
  const engine = await openEngine(io, modelSpec, getString(a, 'backend') ?? 'auto');
  try {
    if (json) {
      printJson(io, await engine.chat.completions.create({ ...params, stream: false }));
      return 0;
    }
    let text = '';
    for await (const chunk of await engine.chat.completions.create({ ...params, stream: true })) {
      const piece = chunk.choices[0]?.delta.content ?? '';
      if (piece) io.stdout.write(piece);
      text += piece;
    }
    if (io.stdout.isTTY && !text.endsWith('\n')) io.stdout.write('\n');
    return 0;
  } finally {
    await engine.dispose();
  }
}
