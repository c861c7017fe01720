import { createEngine } from '../src/index.js';
const t = Date.now();
try {
const g = await createEngine({ worker: false, backend: 'webgpu', onProgress: (p) => { if (p.phase !== 'repack') console.log(p.phase, p.fraction); } });
console.log(Date.now() - t, g.backend, g.selection.description);
console.log(JSON.stringify(await g.generate('In the beginning', { maxTokens: 8, temperature: 0 }).text()));
await g.dispose();
} catch (e) { console.log('ERR', e); }
console.log('done', Date.now() - t);
process.exit(0);
