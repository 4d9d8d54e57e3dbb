import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The package's root folder, found by walking up from this file: the same code runs from `src/`
 * (tests) and from `dist/src/` (the published build), at different depths.
 */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'llm-finops') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('llm-finops: package.json not found above ' + __dirname);
    dir = parent;
  }
}

let version: string | undefined;

/** The package version, from package.json. */
export function packageVersion(): string {
  version ??= (
    JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
  ).version;
  return version;
}
