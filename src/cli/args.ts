import { KERNEL_CHOICES, type KernelChoice } from '../interpreter.js';
// A small argv parser: positionals, `--flag`, `--key value`, and `--key v1 v2 ...` for list options.
export class UsageError extends Error {}

export interface ParsedArgs {
  positionals: string[];
  values: Map<string, string[]>;
  flags: Set<string>;
}

/**
 * `valued` options take values (lists take every following non-option word); `flags` take none.
 * Unknown options are usage errors, so a typo never silently changes what runs.
 */
export function parseArgs(
  argv: string[],
  spec: { valued?: string[]; lists?: string[]; flags?: string[] },
): ParsedArgs {
  const result: ParsedArgs = { positionals: [], values: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith('--')) {
      result.positionals.push(word);
      continue;
    }
    const [name, inline] = word.slice(2).split(/=(.*)/s, 2);
    if (spec.flags?.includes(name)) {
      result.flags.add(name);
    } else if (spec.lists?.includes(name)) {
      const list = result.values.get(name) ?? [];
      if (inline !== undefined) list.push(inline);
      else while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) list.push(argv[++i]);
      if (list.length === 0) throw new UsageError(`--${name} needs at least one value`);
      result.values.set(name, list);
    } else if (spec.valued?.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      result.values.set(name, [value]);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return result;
}

export function single(args: ParsedArgs, name: string): string | undefined {
  return args.values.get(name)?.[0];
}

/** A byte-count option: digits, optionally followed by K (× 1024) or M (× 1024²); undefined when absent. */
export function byteCount(args: ParsedArgs, name: string): number | undefined {
  const value = single(args, name);
  if (value === undefined) return undefined;
  const m = /^(\d+)([kKmM]?)$/.exec(value);
  if (!m) throw new UsageError(`--${name} takes a byte count such as 262144, 256K or 2M, not "${value}"`);
  return Number(m[1]) * (m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024);
}

/** --kernels simd|js|reference; undefined when absent (the interpreter's default tier). */
export function kernelsOption(args: ParsedArgs): KernelChoice | undefined {
  const value = single(args, 'kernels');
  if (value === undefined) return undefined;
  const choice = KERNEL_CHOICES.find((k) => k === value);
  if (!choice) throw new UsageError(`--kernels is ${KERNEL_CHOICES.join(', ')}, not "${value}"`);
  return choice;
}
