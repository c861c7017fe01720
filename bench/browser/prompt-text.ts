/**
 * The text prompt handed to wllama. Its completion API takes the prompt as a string only (a
 * token-id array fails inside llama.cpp with "[json.exception.type_error.302] type must be string,
 * but is array"), so the benchmark picks a stretch of models/kjv-validation.txt that our tokenizer
 * for the model's vocabulary encodes into exactly `tokens` ids including BOS, and checks that the
 * decoded text encodes back to the same ids. llama.cpp applies the same BPE merges and pre-tokenizer,
 * and reports the count it processed (prompt_n), which the benchmark records next to ours.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openModelFile } from '../../src/model/load-model.js';
import { createTokenizer } from '../../src/model/tokenizer/index.js';
import { REPO } from '../models.js';

export interface PromptText {
  readonly text: string;
  /** Ids our tokenizer gives the text, BOS included when the vocabulary adds one. */
  readonly tokens: number;
  readonly roundTrip: boolean;
}

export async function promptText(modelPath: string, tokens: number): Promise<PromptText> {
  const f = await openModelFile(modelPath);
  try {
    const tok = createTokenizer(f.metadata);
    const bos = tok.addBosDefault ? 1 : 0;
    const src = readFileSync(join(REPO, 'models/kjv-validation.txt'), 'utf8').slice(0, 40_000);
    const ids = tok.encode(src, { addBos: false }).slice(0, Math.max(1, tokens - bos));
    const text = tok.decode(ids);
    const back = tok.encode(text, { addBos: false });
    return { text, tokens: back.length + bos, roundTrip: back.length === ids.length && back.every((x, i) => x === ids[i]) };
  } finally {
    await f.close();
  }
}
