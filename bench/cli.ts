/**
 * The command-line side shared by the benchmark scripts: reading `--name value` options from
 * process.argv, and writing a report as a timestamped JSON file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './models.js';

/** The value after `--name` (undefined when the option is absent). */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** `--name` as a number (undefined when absent). */
export function numArg(name: string): number | undefined {
  const v = arg(name);
  return v === undefined ? undefined : Number(v);
}

/** `--name a,b,c` as a list, empty items dropped (undefined when absent). */
export function listArg(name: string): string[] | undefined {
  return arg(name)?.split(',').filter(Boolean);
}

/** Whether the bare flag `--name` is given. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** Writes `report` as `<dir>/<prefix>-<timestamp>.json` (dir default bench/results), logs and returns the path. */
export function writeBenchReport(dir: string | undefined, prefix: string, report: unknown, log: (l: string) => void): string {
  const d = dir ?? join(REPO, 'bench/results');
  mkdirSync(d, { recursive: true });
  const file = join(d, `${prefix}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${file}`);
  return file;
}
