// The command line. Each command lives in commands/<name>.ts and exports `usage` and a function
// (argv, out) => exit code; add a command by adding it to COMMANDS.
import { UsageError } from './args.js';
import { describeError } from './describe-error.js';
import * as arenaCommand from './commands/arena.js';
import * as benchCommand from './commands/bench.js';
import * as classifyCommand from './commands/classify.js';
import * as compareCommand from './commands/compare.js';
import * as evalCommand from './commands/eval.js';
import * as infoCommand from './commands/info.js';
import * as runCommand from './commands/run.js';

type Command = (argv: string[], out: (line: string) => void) => number | Promise<number>;

/** `errorExitCode`: the exit code when the command fails (default 1); usage errors always exit 2. */
const COMMANDS: Record<string, { usage: string; run: Command; errorExitCode?: number }> = {
  info: { usage: infoCommand.usage, run: infoCommand.info },
  run: { usage: runCommand.usage, run: runCommand.run },
  arena: { usage: arenaCommand.usage, run: arenaCommand.arena },
  // compare exits 1 when the outputs differ, so its failures exit 2.
  compare: { usage: compareCommand.usage, run: compareCommand.compare, errorExitCode: 2 },
  classify: { usage: classifyCommand.usage, run: classifyCommand.classify },
  eval: { usage: evalCommand.usage, run: evalCommand.evaluate },
  bench: { usage: benchCommand.usage, run: benchCommand.bench },
};

function help(): string {
  return ['usage: tflite-int8 COMMAND ...', ...Object.values(COMMANDS).map((c) => `  tflite-int8 ${c.usage}`)].join('\n');
}

/** Runs the CLI; returns the exit code. Errors print one line on stderr, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(help());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`tflite-int8: unknown command "${name}"\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest, (line) => console.log(line));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tflite-int8 ${name}: ${e.message}`);
      return 2;
    }
    console.error(`tflite-int8 ${name}: ${describeError(e)}`);
    return command.errorExitCode ?? 1;
  }
}
