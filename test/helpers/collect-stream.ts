/**
 * Drains a generation stream (`engine.generate(...)`) into the text and token ids it produced and
 * its final event (with the stats). Throws when the stream ends without a final event.
 */
import type { GenerationEvent } from '../../src/index.js';

export interface CollectedStream {
  readonly text: string;
  readonly ids: number[];
  readonly end: Extract<GenerationEvent, { done: true }>;
}

export async function collectStream(events: AsyncIterable<GenerationEvent>): Promise<CollectedStream> {
  let text = '';
  const ids: number[] = [];
  for await (const e of events) {
    if (e.done) return { text, ids, end: e };
    text += e.text;
    ids.push(...e.tokenIds);
  }
  throw new Error('stream ended without a final event');
}
