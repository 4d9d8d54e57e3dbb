import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-info';

/**
 * Writes the shipped rules (prometheus/rules/*.yaml) into `dir` with every `for:` set to
 * `forDuration`, so that alerts meant to wait minutes fire within a short run; nothing else
 * changes. Returns the file names written.
 */
export function writeRules(dir: string, forDuration: string): string[] {
  const rulesDir = join(packageRoot(), 'prometheus', 'rules');
  const files = readdirSync(rulesDir).filter((f) => f.endsWith('.yaml'));
  for (const f of files)
    writeFileSync(
      join(dir, f),
      readFileSync(join(rulesDir, f), 'utf8').replace(/^(\s*)for: \S+/gm, `$1for: ${forDuration}`),
    );
  return files;
}
