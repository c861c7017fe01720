/**
 * Test doubles for runtime tests: a byte-level tokenizer (ids 0..255 = bytes, 256 = EOS, 257 = BOS)
 * and a scripted backend whose greedy continuation is a fixed token list.
 */
import type { Backend, ForwardItem, ForwardOptions } from '../../src/backends/backend.js';
import type { GenerateTokenizer } from '../../src/runtime/generate.js';
import type { ModelConfig } from '../../src/model/tensor.js';
import { BitNetError, throwIfAborted } from '../../src/errors.js';

export const EOS = 256;
export const BOS = 257;

export function byteTokenizer(): GenerateTokenizer & { decode(ids: number[]): string } {
  return {
    stopIds: new Set([EOS]),
    encode(text, o) {
      const ids = Array.from(new TextEncoder().encode(text));
      return (o?.addBos ?? true) ? [BOS, ...ids] : ids;
    },
    decode(ids) {
      return new TextDecoder().decode(Uint8Array.from(ids.filter((i) => i < 256)));
    },
    createDecoder() {
      const td = new TextDecoder();
      return {
        push: (id) => (id < 256 ? td.decode(Uint8Array.of(id), { stream: true }) : ''),
        flush: () => td.decode(),
      };
    },
  };
}

/** Token ids spelling `text` in UTF-8 bytes. */
export function bytesOf(text: string): number[] {
  return Array.from(new TextEncoder().encode(text));
}

/**
 * A backend whose logits make `script[i]` the greedy choice after the prompt plus i generated
 * tokens (position-based). Tracks live sequences and forwarded tokens.
 */
export class ScriptedBackend implements Backend {
  readonly name = 'reference' as const;
  readonly description = 'scripted test backend';
  readonly config: ModelConfig;
  readonly live = new Map<number, number[]>();
  readonly forwarded: number[][] = [];
  private next = 1;
  promptLength = -1;

  constructor(private readonly script: number[], readonly maxContext = 1000, readonly vocab = 258) {
    this.config = { vocabSize: vocab } as ModelConfig;
  }

  createSequence(): number {
    const id = this.next++;
    this.live.set(id, []);
    return id;
  }
  sequenceLength(seq: number): number {
    return this.live.get(seq)!.length;
  }
  truncateSequence(seq: number, length: number): void {
    this.live.get(seq)!.length = length;
  }
  freeSequence(seq: number): void {
    this.live.delete(seq);
  }
  async forward(items: readonly ForwardItem[], options?: ForwardOptions): Promise<Float32Array[]> {
    throwIfAborted(options?.signal);
    return items.map((it) => {
      const toks = this.live.get(it.seq);
      if (!toks) throw new BitNetError('BAD_INPUT', 'unknown seq');
      if (toks.length + it.tokens.length > this.maxContext) throw new BitNetError('CONTEXT_OVERFLOW', 'full');
      if (toks.length === 0) this.promptLength = it.tokens.length;
      toks.push(...Array.from(it.tokens));
      this.forwarded.push(Array.from(it.tokens));
      const logits = new Float32Array(this.vocab);
      const want = this.script[toks.length - this.promptLength];
      if (want !== undefined) logits[want] = 10;
      return logits;
    });
  }
  async dispose(): Promise<void> {}
}
