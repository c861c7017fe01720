/**
 * Chat prompts for BitNet models (FORMATS §6.6). Three layouts, picked by `detectChatFormat`:
 *
 * - `llama3`, when `tokenizer.chat_template` mentions `start_header_id` and the vocabulary has the
 *   header tokens: BOS, then per message
 *   `<|start_header_id|>{role}<|end_header_id|>\n\n{content.trim()}<|eot_id|>`; generation prompt
 *   `<|start_header_id|>assistant<|end_header_id|>\n\n`.
 * - `bitnet` (2B-4T, format 1 of §6.6), when the vocabulary has `<|eot_id|>`: BOS, then per message
 *   `{Role}: {content.trim()}<|eot_id|>` with the role capitalised (System/User/Assistant);
 *   generation prompt `Assistant: `. The template embedded in the official GGUF is ignored on purpose.
 * - `plain`, otherwise: BOS (if the tokenizer adds one by default), then `{Role}: {content}\n` lines;
 *   generation prompt `Assistant:`.
 *
 * Token ids: special tokens of the layout are inserted by id and every text run between them is
 * encoded with special-token parsing OFF, so message content can never inject `<|eot_id|>` and
 * friends. The result equals encoding the rendered string with parsing on (HF format 1). With
 * `separatePieces` the role prefix and the content are encoded separately instead, as the official
 * GPU reference does (format 2: "User: " ends in its own space token).
 *
 * `content.trim()` strips Python `str.strip()` whitespace (see `trimPythonSpace`).
 */
import { BitNetError } from '../../errors.js';
import type { Tokenizer } from './index.js';
import { trimPythonSpace } from './unicode-classes.js';

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

export type ChatFormat = 'bitnet' | 'llama3' | 'plain';

export interface ChatOptions {
  /** Append the assistant prefix so the model answers next. Default true. */
  readonly addGenerationPrompt?: boolean;
  /** Layout; default `detectChatFormat(tokenizer)`. */
  readonly format?: ChatFormat;
  /** Encode role prefixes and contents separately (GPU-reference tokenization). Default false. */
  readonly separatePieces?: boolean;
  /** Start with BOS. Default: `tokenizer.addBosDefault` for `plain`, true otherwise. */
  readonly addBos?: boolean;
}

const SH = '<|start_header_id|>';
const EH = '<|end_header_id|>';
const EOT = '<|eot_id|>';

type Part = { readonly text: string } | { readonly special: string };

export function detectChatFormat(tokenizer: Tokenizer): ChatFormat {
  const has = (t: string): boolean => tokenizer.tokenId(t) !== undefined;
  if (tokenizer.chatTemplate?.includes('start_header_id') && has(SH) && has(EH) && has(EOT)) return 'llama3';
  if (has(EOT)) return 'bitnet';
  return 'plain';
}

function capitalise(role: string): string {
  return role.length > 0 ? role[0]!.toUpperCase() + role.slice(1) : role;
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (!Array.isArray(messages)) throw new BitNetError('BAD_INPUT', 'chat messages must be an array');
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || typeof m.role !== 'string' || typeof m.content !== 'string') {
      throw new BitNetError('BAD_INPUT', `chat message ${i} must be { role: string, content: string }`);
    }
  });
}

function layout(format: ChatFormat, messages: readonly ChatMessage[], addGenerationPrompt: boolean): Part[] {
  const parts: Part[] = [];
  for (const m of messages) {
    const content = trimPythonSpace(m.content);
    if (format === 'llama3') {
      parts.push({ special: SH }, { text: m.role }, { special: EH }, { text: '\n\n' }, { text: content }, { special: EOT });
    } else if (format === 'bitnet') {
      parts.push({ text: `${capitalise(m.role)}: ` }, { text: content }, { special: EOT });
    } else {
      parts.push({ text: `${capitalise(m.role)}: ${content}\n` });
    }
  }
  if (addGenerationPrompt) {
    if (format === 'llama3') parts.push({ special: SH }, { text: 'assistant' }, { special: EH }, { text: '\n\n' });
    else if (format === 'bitnet') parts.push({ text: 'Assistant: ' });
    else parts.push({ text: 'Assistant:' });
  }
  return parts;
}

interface Resolved {
  readonly format: ChatFormat;
  readonly parts: Part[];
  readonly bos: number | undefined;
}

function resolve(tokenizer: Tokenizer, messages: readonly ChatMessage[], options: ChatOptions): Resolved {
  checkMessages(messages);
  const format = options.format ?? detectChatFormat(tokenizer);
  const needed = format === 'llama3' ? [SH, EH, EOT] : format === 'bitnet' ? [EOT] : [];
  for (const t of needed) {
    if (tokenizer.tokenId(t) === undefined) {
      throw new BitNetError('BAD_OPTION', `chat format "${format}" needs the token ${t}, which this vocabulary lacks`, { details: { option: 'format' } });
    }
  }
  const wantBos = options.addBos ?? (format === 'plain' ? tokenizer.addBosDefault : true);
  if (wantBos && tokenizer.bosId === undefined) {
    throw new BitNetError('BAD_OPTION', 'addBos: this vocabulary has no BOS token', { details: { option: 'addBos' } });
  }
  const parts = layout(format, messages, options.addGenerationPrompt ?? true);
  return { format, parts, bos: wantBos ? tokenizer.bosId : undefined };
}

/** The prompt as text, special tokens written out (e.g. `<|begin_of_text|>User: Hi<|eot_id|>Assistant: `). */
export function renderChatText(tokenizer: Tokenizer, messages: readonly ChatMessage[], options: ChatOptions = {}): string {
  const r = resolve(tokenizer, messages, options);
  let s = r.bos !== undefined ? tokenizer.tokenText(r.bos) : '';
  for (const p of r.parts) s += 'text' in p ? p.text : p.special;
  return s;
}

/** The prompt as token ids, ready for prefill. */
export function renderChat(tokenizer: Tokenizer, messages: readonly ChatMessage[], options: ChatOptions = {}): number[] {
  const r = resolve(tokenizer, messages, options);
  const out: number[] = r.bos !== undefined ? [r.bos] : [];
  let pending = '';
  const flush = (): void => {
    if (pending.length > 0) {
      for (const id of tokenizer.encode(pending, { addBos: false, addEos: false, parseSpecial: false })) out.push(id);
    }
    pending = '';
  };
  for (const p of r.parts) {
    if ('special' in p) {
      flush();
      out.push(tokenizer.tokenId(p.special)!);
    } else {
      pending += p.text;
      if (options.separatePieces) flush();
    }
  }
  flush();
  return out;
}
