#!/usr/bin/env node
/**
 * bitnet-web in Node: generate text from the embedded default model (or a GGUF path / URL) with
 * the npm API. Run after `npm run build` (the package resolves to its own dist/ through "exports"):
 *
 *   node examples/node/generate.mjs ["prompt"] [--model path-or-url] [--max-tokens N] [--backend auto|wasm|webgpu|reference]
 *
 * In your project: `npm install bitnet-web`, then the same `import { createEngine } from 'bitnet-web'`.
 */
import { parseArgs } from 'node:util';
import { createEngine } from 'bitnet-web';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string' },
    'max-tokens': { type: 'string', default: '32' },
    backend: { type: 'string', default: 'auto' },
    temperature: { type: 'string', default: '0' },
  },
});
const prompt = positionals.join(' ') || 'In the beginning God created';

let shown = '';
const engine = await createEngine({
  ...(values.model ? { model: values.model } : {}),
  backend: values.backend,
  onProgress: (p) => {
    const line = `${p.phase} ${Math.floor(p.fraction * 10) * 10}%`;
    if (line !== shown) process.stderr.write(`\r${(shown = line).padEnd(20)}`);
  },
});
process.stderr.write(`\rmodel ${engine.model.name} on ${engine.backend} (${engine.selection.description})\n`);

try {
  process.stdout.write(prompt);
  for await (const chunk of engine.generate(prompt, { maxTokens: Number(values['max-tokens']), temperature: Number(values.temperature) })) {
    if (!chunk.done) process.stdout.write(chunk.text);
    else {
      const s = chunk.stats;
      process.stdout.write('\n');
      process.stderr.write(`${s.generatedTokens} tokens, TTFT ${s.ttftMs.toFixed(0)} ms, ${s.decodeTokensPerS.toFixed(1)} tokens/s (${s.backend})\n`);
    }
  }

  // The OpenAI-style API works the same way:
  const completion = await engine.chat.completions.create({
    messages: [{ role: 'user', content: 'Who created the heaven and the earth?' }],
    max_tokens: 16,
    temperature: 0,
  });
  process.stderr.write(`chat: ${JSON.stringify(completion.choices[0].message.content)} (${completion.usage.total_tokens} tokens)\n`);
} finally {
  await engine.dispose();
}
