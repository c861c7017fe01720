#!/usr/bin/env node
// Launcher for the `bitnet` CLI: runs the compiled dist/cli/main.js when it exists (npm run build),
// otherwise the TypeScript sources through tsx (a devDependency), so it works right after `npm install`.
// BITNET_CLI_SOURCE=1 forces the TypeScript sources even when dist/ exists.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url);
const dist = new URL('dist/cli/main.js', root);
const useSource = process.env.BITNET_CLI_SOURCE === '1' || !existsSync(fileURLToPath(dist));

let mod;
if (useSource) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('bitnet: FEATURE_UNAVAILABLE: dist/cli/main.js is missing and tsx is not installed; run `npm install` or `npm run build`\n');
    process.exit(1);
  }
  register();
  mod = await import(pathToFileURL(fileURLToPath(new URL('src/cli/main.ts', root))).href);
} else {
  mod = await import(dist.href);
}
process.exitCode = await mod.main(process.argv.slice(2));
