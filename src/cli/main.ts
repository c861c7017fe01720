/**
 * Entry of the `bitnet` command (bin/bitnet.js imports this and calls `main`).
 * Exit status: 0 on success; 2 for usage errors (BAD_OPTION); 130 when interrupted; 1 otherwise.
 * Every failure prints exactly one line `bitnet: <code>: <message>` on stderr.
 */
import { BitNetError } from '../errors.js';
import { CHAT_USAGE, runChat } from './commands/chat.js';
import { CONVERT_USAGE, runConvert } from './commands/convert.js';
import { GENERATE_USAGE, runGenerate } from './commands/generate.js';
import { INSPECT_USAGE, runInspect } from './commands/inspect.js';
import { LOGITS_USAGE, runLogits } from './commands/logits.js';
import { TOKENIZE_USAGE, runTokenize } from './commands/tokenize.js';
import { formatError, type CliIO } from './io.js';

type Command = (argv: readonly string[], io: CliIO) => Promise<number>;

const COMMANDS: Readonly<Record<string, Command>> = {
  generate: runGenerate,
  chat: runChat,
  logits: runLogits,
  inspect: runInspect,
  tokenize: runTokenize,
  convert: runConvert,
};

export const USAGE = ['usage:', GENERATE_USAGE, CHAT_USAGE, LOGITS_USAGE, INSPECT_USAGE, TOKENIZE_USAGE, CONVERT_USAGE].join('\n  ') + '\n';

/** Runs one CLI invocation (`argv` without node and script) and returns the exit status. */
export async function main(argv: readonly string[], io: CliIO = defaultIO()): Promise<number> {
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
      (name === undefined ? io.stderr : io.stdout).write(USAGE);
      return name === undefined ? 2 : 0;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      if (COMMANDS[name]) {
        io.stdout.write(USAGE);
        return 0;
      }
    }
    const cmd = COMMANDS[name];
    if (!cmd) throw new BitNetError('BAD_OPTION', `unknown command ${JSON.stringify(name)} (expected ${Object.keys(COMMANDS).join(', ')})`, { details: { option: 'command' } });
    return await cmd(rest, io);
  } catch (e) {
    const { line, status } = formatError(e);
    io.stderr.write(line + '\n');
    return status;
  }
}

/** process.stdout / process.stderr, with SIGINT wired to an AbortSignal (a second SIGINT exits). */
export function defaultIO(): CliIO {
  const ac = new AbortController();
  // A closed pipe (`bitnet generate ... | head`) ends the command quietly instead of crashing.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  process.once('SIGINT', () => {
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return { stdout: process.stdout, stderr: process.stderr, signal: ac.signal };
}
