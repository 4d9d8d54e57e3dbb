import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
// The CLI is compiled from its own sources into a folder of the work tree (so that it finds
// package.json and pricing/catalog.yaml above it, as an installed package does), without
// depending on a prior `npm run build` or on the rest of the project compiling.
const outDir = join(root, 'test-artifacts', 'pricing-cli');
const main = join(outDir, 'src', 'cli', 'main.js');
const fixture = (name: string) => relative(root, join(__dirname, 'fixtures', 'pricing', name));

beforeAll(() => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const flags = ['--rootDir', root, '--outDir', outDir, '--module', 'node16', '--target', 'ES2022'];
  const strict = ['--strict', '--esModuleInterop', '--skipLibCheck', '--types', 'node'];
  execFileSync(process.execPath, [tsc, join(root, 'src', 'cli', 'main.ts'), ...flags, ...strict], {
    cwd: root,
  });
}, 120_000);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  const artifacts = join(outDir, '..');
  if (readdirSync(artifacts).length === 0) rmSync(artifacts, { recursive: true });
});

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = spawnSync(process.execPath, [main, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, LLM_FINOPS_PRICING_FILE: '', ...env },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('llm-finops pricing check', () => {
  it('exits 1 and prints every error as file:line: key: message', () => {
    const bad = fixture('bad.yaml');
    const { code, stdout, stderr } = cli(['pricing', 'check', bad]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([
      `${bad}:5: models.gpt-x.input_cost_per_token: expected a number >= 0, got string`,
      `${bad}:9: models.gpt-y.output_cost_per_token: expected a number >= 0`,
      `${bad}:13: models.gpt-z.tier: expected one of economy | standard | premium, got "gold"`,
      `${bad}:14: models.gpt-w.input_cost_per_token: required`,
    ]);
  });

  it('counts the models of a good file, and the skipped entries of a LiteLLM one', () => {
    expect(cli(['pricing', 'check', fixture('override.yaml')])).toEqual({
      code: 0,
      stdout: 'ok: 2 models (0 skipped)\n',
      stderr: '',
    });
    expect(cli(['pricing', 'check', fixture('litellm-excerpt.json')]).stdout).toBe(
      'ok: 8 models (6 skipped)\n',
    );
    expect(cli(['pricing', 'check', 'pricing/catalog.yaml']).code).toBe(0);
  });

  it('exits 1 for a missing file', () => {
    const { code, stderr } = cli(['pricing', 'check', 'no/such/prices.yaml']);
    expect(code).toBe(1);
    expect(stderr).toBe('no/such/prices.yaml: cannot read: no such file\n');
  });
});

describe('llm-finops pricing show', () => {
  it('shows the entry an id resolves to, per token and per 1M tokens', () => {
    const { code, stdout } = cli(['pricing', 'show', 'openai/gpt-4o-2024-08-06']);
    expect(code).toBe(0);
    expect(stdout).toContain('openai/gpt-4o-2024-08-06 -> gpt-4o\n');
    expect(stdout).toContain('provider      openai\n');
    expect(stdout).toContain('tier          standard\n');
    expect(stdout).toContain('catalog       2026-12-01\n');
    expect(stdout).toMatch(/^input +2\.5e-6 +2\.50$/m);
    expect(stdout).toMatch(/^cache read +1\.25e-6 +1\.25$/m);
    expect(stdout).toMatch(/^output +1e-5 +10\.00$/m);
  });

  it('prints JSON with --json', () => {
    const { code, stdout } = cli([
      'pricing',
      'show',
      'us.anthropic.claude-sonnet-4-20250514-v1:0',
      '--json',
    ]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      model: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
      resolved: 'claude-sonnet-4',
      provider: 'anthropic',
      tier: 'standard',
      catalog_date: '2026-12-01',
      override_file: null,
      usd_per_token: {
        input: 3e-6,
        cache_read: 3e-7,
        cache_write: 3.75e-6,
        output: 1.5e-5,
        reasoning: 1.5e-5,
      },
      usd_per_million_tokens: {
        input: 3,
        cache_read: 0.3,
        cache_write: 3.75,
        output: 15,
        reasoning: 15,
      },
    });
  });

  it('prices from an override file given by --file or LLM_FINOPS_PRICING_FILE', () => {
    const overrides = fixture('override.yaml');
    expect(cli(['pricing', 'show', 'gpt-4o', '--file', overrides]).stdout).toMatch(
      /^input +2e-6 +2\.00$/m,
    );
    const viaEnv = cli(['pricing', 'show', 'acme-deploy-1', '--json'], {
      LLM_FINOPS_PRICING_FILE: overrides,
    });
    expect(JSON.parse(viaEnv.stdout)).toMatchObject({
      resolved: 'acme-gpt',
      override_file: overrides,
    });
  });

  it('exits 1 with a message on stderr for an unknown model', () => {
    const { code, stdout, stderr } = cli(['pricing', 'show', 'gpt-9000']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown model "gpt-9000"');
  });

  it('exits 1 listing the errors of a bad --file', () => {
    const { code, stderr } = cli(['pricing', 'show', 'gpt-4o', '--file', fixture('bad.json')]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      'bad.json:9: models.gpt-x.output_cost_per_token: expected a number >= 0',
    );
  });
});

describe('--help', () => {
  it.each([[[]], [['pricing']], [['pricing', 'show']], [['pricing', 'check']]])('%j', (args) => {
    const { code, stdout } = cli([...args, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: llm-finops/);
  });
});
