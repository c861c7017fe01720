/**
 * Writes a deterministic random BitNet GGUF fixture (src/model/fixtures.ts).
 *
 *   npx tsx tools/make-fixture.ts --arch bitnet-b1.58 --type I2_S --out fixture.gguf
 *   npx tsx tools/make-fixture.ts --shape 2b4t --out 2b4t.gguf        # ~1.1 GB, streamed
 *
 * Options: --arch (bitnet-b1.58|bitnet-25|bitnet|llama), --type (TQ1_0|TQ2_0|I2_S),
 * --embd-type (F16|F32|BF16|Q8_0), --seed, --layers, --embd, --heads, --heads-kv, --ff, --vocab,
 * --merges, --ctx, --untied, --scales, --activation NAME, --shape 2b4t, --out PATH (required).
 */
import { parseArgs } from 'node:util';
import { type FixtureOptions, writeFixtureFile } from '../src/model/fixtures.js';

const { values } = parseArgs({
  options: {
    arch: { type: 'string' }, type: { type: 'string' }, 'embd-type': { type: 'string' }, seed: { type: 'string' },
    layers: { type: 'string' }, embd: { type: 'string' }, heads: { type: 'string' }, 'heads-kv': { type: 'string' },
    ff: { type: 'string' }, vocab: { type: 'string' }, merges: { type: 'string' }, ctx: { type: 'string' },
    untied: { type: 'boolean' }, scales: { type: 'boolean' }, activation: { type: 'string' }, shape: { type: 'string' },
    out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
});

if (values.help || !values.out) {
  console.error('usage: npx tsx tools/make-fixture.ts --arch ARCH --type TQ1_0|TQ2_0|I2_S [--shape 2b4t] --out FILE.gguf');
  process.exit(values.help ? 0 : 2);
}

const int = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
const opts: FixtureOptions = {
  arch: values.arch as FixtureOptions['arch'],
  ternaryType: values.type as FixtureOptions['ternaryType'],
  embeddingType: values['embd-type'] as FixtureOptions['embeddingType'],
  seed: int(values.seed), nLayer: int(values.layers), nEmbd: int(values.embd), nHead: int(values.heads),
  nHeadKv: int(values['heads-kv']), nFf: int(values.ff), vocab: int(values.vocab), nMerges: int(values.merges),
  contextLength: int(values.ctx), untiedOutput: values.untied, projectionScales: values.scales,
  hiddenActivation: values.activation,
  shape: values.shape === '2b4t' ? '2b4t' : undefined,
};
if (values.shape !== undefined && values.shape !== '2b4t') {
  console.error(`unknown --shape ${values.shape} (only 2b4t)`);
  process.exit(2);
}
const clean = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as FixtureOptions;

const t0 = Date.now();
try {
  const bytes = await writeFixtureFile(clean, values.out);
  console.log(`wrote ${values.out}: ${bytes} bytes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} catch (e) {
  console.error(`make-fixture: ${(e as Error).message}`);
  process.exit(1);
}
