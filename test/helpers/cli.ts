// Runs the built CLI as a user would: `node bin/tflite-int8.js ...` from the repo root.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/**
 * The built CLI in a fresh directory whose node_modules lacks the reference runtimes (LiteRT.js, tfjs-tflite,
 * flatbuffers), to check what a user without the dev dependencies sees. Returns the path of its bin script.
 */
export function bareInstall(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-int8-bare-'));
  cpSync(join(REPO_ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(REPO_ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  mkdirSync(join(dir, 'node_modules'));
  for (const name of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (['@litertjs', '@tensorflow', 'flatbuffers'].includes(name)) continue;
    symlinkSync(join(REPO_ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  return join(dir, 'bin/tflite-int8.js');
}
