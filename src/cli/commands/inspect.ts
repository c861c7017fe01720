/**
 * `bitnet inspect <file|url|default>` — prints the GGUF summary of `inspectGGUF` as JSON
 * (header, metadata, tensors, derived config). Reads only the header, metadata and tensor infos.
 */
import { inspectGGUF } from '../../model/inspect.js';
import { openModelFile } from '../../model/load-model.js';
import { badOption, parseArgs } from '../args.js';
import { printJson, type CliIO } from '../io.js';

export const INSPECT_USAGE = 'bitnet inspect <file|url|default>';

export async function runInspect(argv: readonly string[], io: CliIO): Promise<number> {
  const a = parseArgs(argv, {}, 1);
  const path = a.positionals[0];
  if (path === undefined) throw badOption('file', `usage: ${INSPECT_USAGE}`);
  const file = await openModelFile(path, io.signal ? { signal: io.signal } : {});
  try {
    printJson(io, await inspectGGUF(file));
    return 0;
  } finally {
    await file.close();
  }
}
