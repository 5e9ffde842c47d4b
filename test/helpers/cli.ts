// Runs the built CLI as a user would: `node bin/tflite-int8.js ...` from the repo root.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(...args: string[]): CliResult {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/tflite-int8.js'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
