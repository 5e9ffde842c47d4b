// The command line. Each command lives in commands/<name>.ts and exports `usage` and a function
// (argv, out) => exit code; add a command by adding it to COMMANDS.
import { TfliteInt8Error } from '../errors.js';
import { UsageError } from './args.js';
import * as infoCommand from './commands/info.js';
import * as runCommand from './commands/run.js';

type Command = (argv: string[], out: (line: string) => void) => number | Promise<number>;

const COMMANDS: Record<string, { usage: string; run: Command }> = {
  info: { usage: infoCommand.usage, run: infoCommand.info },
  run: { usage: runCommand.usage, run: runCommand.run },
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
    const message = e instanceof Error ? e.message : String(e);
    const kind = e instanceof TfliteInt8Error ? e.name : e instanceof Error && 'code' in e ? 'I/O error' : 'internal error';
    console.error(`tflite-int8 ${name}: ${kind}: ${message.split('\n')[0]}`);
    return 1;
  }
}
