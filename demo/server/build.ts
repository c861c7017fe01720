/**
 * Build steps behind `npm start` and the end-to-end tests: the library's script-tag bundles
 * (dist/browser/, with the library's own vite.config.ts), the demo and the React example (Vite). A step is
 * skipped when its output is newer than every input, so restarting is quick.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface BuildStep {
  readonly name: string;
  /** Files / directories whose change requires a rebuild. */
  readonly inputs: readonly string[];
  /** A file the step writes (its mtime is the step's time). */
  readonly output: string;
  run(): Promise<void>;
}

export interface BuildOptions {
  readonly force?: boolean;
  /** Show bundler warnings (default: errors only). */
  readonly verbose?: boolean;
  readonly log?: (line: string) => void;
}

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.vite']);

/** Newest mtime (ms) under the given paths (0 when none exist). */
export function newestMtime(paths: readonly string[]): number {
  let newest = 0;
  const visit = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) if (!SKIP_DIRS.has(e)) visit(join(p, e));
    } else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of paths) visit(p);
  return newest;
}

function outputMtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} exited with code ${code}`))));
  });
}

let viteLogLevel: 'warn' | 'error' = 'error';

async function viteBuild(configFile: string, mode = 'production', root?: string): Promise<void> {
  const { build } = await import('vite');
  await build({ ...(root ? { root } : {}), configFile: join(REPO, configFile), logLevel: viteLogLevel, mode });
}

function packageScripts(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  return pkg.scripts ?? {};
}

const LIB_INPUTS = ['src', 'wasm/build', 'models', 'package.json', 'vite.config.ts', 'tsconfig.json', 'tsconfig.build.json'].map((p) => join(REPO, p));

/** The steps, in order. */
export function buildSteps(): BuildStep[] {
  const steps: BuildStep[] = [];
  if (packageScripts()['build:browser']) {
    steps.push({
      name: 'library script-tag bundles (npm run build:browser)',
      inputs: LIB_INPUTS,
      output: join(REPO, 'dist/browser/bitnet.worker.js'),
      run: () => run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build:browser']),
    });
  } else if (existsSync(join(REPO, 'vite.config.ts'))) {
    // The script-tag half of `npm run build` (the tsc half is not needed to serve pages).
    steps.push({
      name: 'library script-tag bundles (vite build --mode main / worker)',
      inputs: LIB_INPUTS,
      output: join(REPO, 'dist/browser/bitnet.worker.js'),
      run: async () => {
        await viteBuild('vite.config.ts', 'main', REPO);
        await viteBuild('vite.config.ts', 'worker', REPO);
      },
    });
  }
  steps.push({
    name: 'demo (vite build)',
    inputs: [...LIB_INPUTS, join(REPO, 'demo/src'), join(REPO, 'demo/index.html'), join(REPO, 'demo/vite.config.ts'), join(REPO, 'demo/server/headers.ts')],
    output: join(REPO, 'demo/dist/index.html'),
    run: () => viteBuild('demo/vite.config.ts'),
  });
  steps.push({
    name: 'React example (vite build)',
    inputs: [...LIB_INPUTS, join(REPO, 'examples/react'), join(REPO, 'demo/server/headers.ts')],
    output: join(REPO, 'examples/react/dist/index.html'),
    run: () => viteBuild('examples/react/vite.config.ts'),
  });
  return steps;
}

/** Runs the steps whose output is missing or older than their inputs. */
export async function buildAll(o: BuildOptions = {}): Promise<void> {
  const log = o.log ?? ((l: string) => console.log(l));
  viteLogLevel = o.verbose ? 'warn' : 'error';
  for (const step of buildSteps()) {
    const out = outputMtime(step.output);
    if (!o.force && out >= 0 && out >= newestMtime(step.inputs)) {
      log(`build: ${step.name}: up to date`);
      continue;
    }
    const t0 = Date.now();
    log(`build: ${step.name}…`);
    await step.run();
    if (!existsSync(step.output)) throw new Error(`build: ${step.name} did not produce ${step.output}`);
    log(`build: ${step.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** Whether the script-tag bundle exists (the script-tag example needs it). */
export function hasScriptTagBundle(): boolean {
  return existsSync(join(REPO, 'dist/browser/bitnet.js'));
}
