// The core runs in browsers: schema/, src/ (but for the edges src/cli/ and src/node/) and ops/ must not touch
// Node built-ins.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/shared.js';

const EDGES = [join('src', 'cli'), join('src', 'node')];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return EDGES.some((edge) => path.endsWith(edge)) ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

it('no core file imports a Node built-in or a package, or uses Buffer/process', () => {
  const files = ['schema', 'src', 'ops'].flatMap((d) => sourceFiles(join(REPO_ROOT, d)));
  expect(files.length).toBeGreaterThan(10);
  const builtins = new Set(builtinModules);
  const offences: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const specifier = m[1];
      if (specifier.startsWith('node:') || builtins.has(specifier.split('/')[0])) {
        offences.push(`${relative(REPO_ROOT, file)} imports ${specifier}`);
      } else if (!specifier.startsWith('.')) {
        // The core has no runtime dependencies; packages (jpeg-js, pngjs) belong to the edges.
        offences.push(`${relative(REPO_ROOT, file)} imports the package ${specifier}`);
      }
    }
    if (/\bBuffer\.|\bprocess\./.test(text)) offences.push(`${relative(REPO_ROOT, file)} uses Buffer or process`);
  }
  expect(offences).toEqual([]);
});
