import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  BudgetConfigError,
  loadBudgetConfig,
  parseBudgetConfig,
  type LoadedBudgetConfig,
} from '../src/sidecar/config/load';
import { watchBudgetConfig, type BudgetConfigWatcher } from '../src/sidecar/config/watch';

const ROOT = join(__dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'llm-finops-budgets-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let dirs = 0;
/** A fresh directory per test, so that one test's file events never reach another's watcher. */
function freshDir(): string {
  const dir = join(scratch, `d${++dirs}`);
  mkdirSync(dir);
  return dir;
}

const lines = (...text: string[]) => text.join('\n') + '\n';

/** A valid config; `limit` is the default user cap, to tell versions apart. */
const configText = (limit: number) =>
  lines(
    'prometheus:',
    '  url: http://127.0.0.1:9090',
    'upgrade:',
    '  url: https://example.com/upgrade',
    'budgets:',
    '  users:',
    '    default:',
    `      - { window: month, limit_usd: ${limit} }`,
  );

/** The error a config raises, for assertions on its fields. */
function errorOf(load: () => unknown): BudgetConfigError {
  try {
    load();
  } catch (err) {
    if (err instanceof BudgetConfigError) return err;
    throw err;
  }
  throw new Error('expected a BudgetConfigError');
}

describe('loading', () => {
  it('fills every default; durations are in milliseconds', () => {
    const file = join(freshDir(), 'budgets.yaml');
    const text = configText(10);
    writeFileSync(file, text);
    const loaded = loadBudgetConfig(file, {});
    expect(loaded.file).toBe(file);
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.secrets).toEqual({});
    expect(loaded.config).toEqual({
      prometheus: {
        url: 'http://127.0.0.1:9090',
        refresh: 15_000,
        stale_after: 120_000,
        resolution: 15_000,
        max_scrape_gap: 600_000,
        backfill_step: 900_000,
        parallel_queries: 2,
        timeout: 120_000,
        selector: '',
        headers: {},
      },
      timezone: 'UTC',
      fail_mode: 'open',
      upgrade: {
        url: 'https://example.com/upgrade',
        message: 'You have reached your AI budget for this period.',
      },
      headers: {},
      user_id_mode: 'raw',
      reservations: { ttl: 600_000, settled_ttl: 300_000 },
      budgets: {
        features: {},
        users: {
          default: [{ window: 'month', limit_usd: 10, warn_at: 0.8 }],
          plans: {},
          overrides: {},
        },
      },
    });
  });

  it('is frozen, so that nothing changes the config in force in place', () => {
    const loaded = parseBudgetConfig(configText(10), 'budgets.yaml', {});
    expect(Object.isFrozen(loaded)).toBe(true);
    expect(Object.isFrozen(loaded.config.budgets.users.default?.[0])).toBe(true);
    expect(Object.isFrozen(loaded.config.prometheus.headers)).toBe(true);
  });

  it('loads budgets.example.yaml, every option as documented', () => {
    const loaded = loadBudgetConfig(join(ROOT, 'budgets.example.yaml'), {});
    const { prometheus, budgets, reservations } = loaded.config;
    expect([prometheus.refresh, prometheus.stale_after, prometheus.max_scrape_gap]).toEqual([
      15_000, 120_000, 600_000,
    ]);
    expect(reservations).toEqual({ ttl: 600_000, settled_ttl: 300_000 });
    expect(budgets.global).toEqual([{ window: 'month', limit_usd: 5000, warn_at: 0.8 }]);
    expect(budgets.features.summarize).toEqual([{ window: '24h', limit_usd: 20, warn_at: 0.9 }]);
    expect(budgets.users.plans.pro?.map((c) => c.window)).toEqual(['month', 'day']);
    expect(budgets.users.overrides['some-user-id']?.[0]?.limit_usd).toBe(500);
  });

  it('resolves secrets from the variables the config names', () => {
    const text = lines(
      'prometheus:',
      '  url: https://prom.example.com',
      '  basic_auth: { username: finops, password_env: PROM_PASSWORD }',
      'upgrade: { url: https://example.com/upgrade }',
      'user_id_mode: hash',
      'reservations: { token_env: SIDECAR_TOKEN }',
      'budgets: {}',
    );
    const env = {
      PROM_PASSWORD: 'p4ss',
      SIDECAR_TOKEN: 't0ken',
      LLM_FINOPS_USER_ID_HASH_KEY: 'k3y',
    };
    expect(parseBudgetConfig(text, 'budgets.yaml', env).secrets).toEqual({
      prometheusPassword: 'p4ss',
      reservationToken: 't0ken',
      userIdHashKey: 'k3y',
    });
    const bearer = text.replace(
      'basic_auth: { username: finops, password_env: PROM_PASSWORD }',
      'bearer_token_env: PROM_TOKEN',
    );
    const secrets = parseBudgetConfig(bearer, 'b.yaml', { ...env, PROM_TOKEN: 'b34rer' }).secrets;
    expect(secrets.prometheusBearerToken).toBe('b34rer');
  });
});

describe('errors name the file, line and key', () => {
  /** Base of the cases below; each replaces some of its lines. */
  const base = [
    'prometheus:', // 1
    '  url: http://127.0.0.1:9090', // 2
    'upgrade:', // 3
    '  url: https://example.com/upgrade', // 4
    'budgets:', // 5
    '  users:', // 6
    '    default:', // 7
    '      - window: month', // 8
    '        limit_usd: 10', // 9
  ];
  const edit = (changes: Record<number, string | string[]>) =>
    lines(...base.flatMap((line, i) => changes[i + 1] ?? line));

  it.each([
    [
      'wrong type',
      edit({ 9: '        limit_usd: ten' }),
      '9: budgets.users.default.0.limit_usd: Expected number, received string',
    ],
    [
      'negative limit',
      edit({ 9: '        limit_usd: -1' }),
      '9: budgets.users.default.0.limit_usd: limit_usd must be 0 or more',
    ],
    [
      'bad window',
      edit({ 8: '      - window: 3d' }),
      '8: budgets.users.default.0.window: window must be day, week, month or <N>h (e.g. 24h)',
    ],
    [
      'bad time zone',
      edit({ 3: ['timezone: Mars/Olympus_Mons', 'upgrade:'] }),
      '3: timezone: timezone must be an IANA time zone such as UTC or Europe/Paris',
    ],
    [
      'duplicate window',
      edit({ 9: ['        limit_usd: 10', '      - { window: month, limit_usd: 20 }'] }),
      '10: budgets.users.default.1.window: window month given twice',
    ],
    [
      'unknown key at depth',
      edit({ 9: ['        limit_usd: 10', '        warn: 0.5'] }),
      '10: budgets.users.default.0.warn: unknown key',
    ],
    [
      'unknown top-level key',
      edit({ 5: ['budget_caps: {}', 'budgets:'] }),
      '5: budget_caps: unknown key',
    ],
    ['missing prometheus.url', edit({ 2: '  refresh: 30s' }), '1: prometheus.url: Required'],
    [
      'fail mode neither open nor closed',
      edit({ 5: ['fail_mode: sometimes', 'budgets:'] }),
      '5: fail_mode: fail_mode must be open or closed',
    ],
    [
      'fail mode per scope',
      edit({ 5: ['fail_mode: { user: shut }', 'budgets:'] }),
      '5: fail_mode.user: fail_mode must be open or closed',
    ],
    [
      'unset token variable',
      edit({ 5: ['reservations:', '  token_env: NO_SUCH_TOKEN', 'budgets:'] }),
      '6: reservations.token_env: environment variable NO_SUCH_TOKEN is not set',
    ],
    [
      'empty password variable',
      edit({
        2: [
          '  url: http://127.0.0.1:9090',
          '  basic_auth:',
          '    username: u',
          '    password_env: EMPTY',
        ],
      }),
      '5: prometheus.basic_auth.password_env: environment variable EMPTY is empty',
    ],
    [
      'bearer token and basic auth',
      edit({
        2: [
          '  url: http://127.0.0.1:9090',
          '  bearer_token: abc',
          '  basic_auth: { username: u, password: p }',
        ],
      }),
      '4: prometheus.basic_auth: give basic_auth or a bearer token, not both',
    ],
    [
      'hash mode without the hash key',
      edit({ 5: ['user_id_mode: hash', 'budgets:'] }),
      '5: user_id_mode: environment variable LLM_FINOPS_USER_ID_HASH_KEY is not set',
    ],
    [
      'credentials in the Prometheus URL',
      edit({ 2: '  url: http://u:p@127.0.0.1:9090' }),
      '2: prometheus.url: put credentials in prometheus.basic_auth, not in the URL',
    ],
    [
      'stale_after within one refresh',
      edit({ 2: ['  url: http://127.0.0.1:9090', '  refresh: 1m', '  stale_after: 30s'] }),
      '4: prometheus.stale_after: stale_after must be longer than refresh, or data goes stale between refreshes',
    ],
    [
      'header name with a space',
      edit({ 5: ['headers: { user: x llm user }', 'budgets:'] }),
      '5: headers.user: "x llm user" is not a valid header name',
    ],
    ['YAML syntax error', edit({ 8: '      - window: [month' }), /^9: YAML syntax error: /],
    [
      'key given twice',
      edit({ 3: ['timezone: UTC', 'timezone: CET', 'upgrade:'] }),
      /^4: YAML syntax error: Map keys must be unique/,
    ],
  ])('%s', (_what, text, expected) => {
    const file = join(scratch, 'budgets.yaml');
    writeFileSync(file, text);
    const err = errorOf(() => loadBudgetConfig(file, { EMPTY: '' }));
    expect(err.issues).toHaveLength(1);
    const [line, key] = [err.line, err.key];
    const shown = `${line}: ${key ? `${key}: ` : ''}${err.issues[0]?.message}`;
    if (typeof expected === 'string') expect(shown).toBe(expected);
    else expect(shown).toMatch(expected);
    expect(err.file).toBe(file);
    expect(err.message).toBe(`${file}:${shown}`);
  });

  it('reports every problem, in line order', () => {
    const text = edit({
      2: '  url: http://127.0.0.1:9090',
      4: ['  url: https://example.com/upgrade', '  mesage: Pay up'],
      8: '      - window: 3d',
      9: '        limit_usd: -5',
    });
    const lines = `${text}timezone: Nowhere/Land\n`;
    const err = errorOf(() => parseBudgetConfig(lines, 'budgets.yaml', {}));
    expect(err.message.split('\n')).toEqual([
      'budgets.yaml:5: upgrade.mesage: unknown key',
      'budgets.yaml:9: budgets.users.default.0.window: window must be day, week, month or <N>h (e.g. 24h)',
      'budgets.yaml:10: budgets.users.default.0.limit_usd: limit_usd must be 0 or more',
      'budgets.yaml:11: timezone: timezone must be an IANA time zone such as UTC or Europe/Paris',
    ]);
    expect([err.line, err.key]).toEqual([5, 'upgrade.mesage']);
  });

  it.each([
    [
      '',
      'budgets.yaml:1: the file is empty: a budget config has prometheus:, upgrade: and budgets:',
    ],
    [
      '- prometheus\n',
      'budgets.yaml:1: expected a mapping: a budget config has prometheus:, upgrade: and budgets:',
    ],
  ])('a file that is no mapping: %j', (text, message) => {
    expect(errorOf(() => parseBudgetConfig(text, 'budgets.yaml', {})).message).toBe(message);
  });

  it('says when the file cannot be read, at line 0', () => {
    const missing = join(scratch, 'missing.yaml');
    const err = errorOf(() => loadBudgetConfig(missing, {}));
    expect([err.file, err.line, err.key]).toEqual([missing, 0, '']);
    expect(err.message).toBe(`${missing}: cannot read: no such file`);
    expect(errorOf(() => loadBudgetConfig(scratch, {})).message).toBe(
      `${scratch}: cannot read: is a directory`,
    );
  });
});

/** Records what a watcher delivers. */
function recorder() {
  const changes: LoadedBudgetConfig[] = [];
  const errors: BudgetConfigError[] = [];
  return {
    changes,
    errors,
    onChange: (config: LoadedBudgetConfig) => changes.push(config),
    onError: (err: BudgetConfigError) => errors.push(err),
    limits: () => changes.map((c) => c.config.budgets.users.default?.[0]?.limit_usd),
  };
}

/** Waits until `check` passes (file events arrive after the 100 ms debounce). */
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 5000, interval: 20 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('watching', () => {
  const watchers: BudgetConfigWatcher[] = [];
  afterEach(() => watchers.splice(0).forEach((w) => w.close()));

  /** A config file, loaded, and a watcher on it. */
  function setUp(limit = 10) {
    const dir = freshDir();
    const file = join(dir, 'budgets.yaml');
    writeFileSync(file, configText(limit));
    const current = loadBudgetConfig(file, {});
    const seen = recorder();
    const watcher = watchBudgetConfig(file, seen.onChange, seen.onError, { current, env: {} });
    watchers.push(watcher);
    return { dir, file, seen, watcher };
  }

  it('reloads when the file is written in place', async () => {
    const { file, seen } = setUp();
    writeFileSync(file, configText(11));
    await eventually(() => expect(seen.limits()).toEqual([11]));
    expect(seen.changes[0]?.file).toBe(file);
    expect(seen.errors).toEqual([]);
  });

  it('reloads when an editor renames a new file over it', async () => {
    const { dir, file, seen } = setUp();
    const temp = join(dir, '.budgets.yaml.swp');
    writeFileSync(temp, configText(12));
    renameSync(temp, file);
    await eventually(() => expect(seen.limits()).toEqual([12]));
    // The watch survives the replaced inode.
    writeFileSync(file, configText(13));
    await eventually(() => expect(seen.limits()).toEqual([12, 13]));
  });

  it('reloads when a Kubernetes ConfigMap volume swaps its ..data symlink', async () => {
    const dir = freshDir();
    const version = (name: string, limit: number) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'budgets.yaml'), configText(limit));
    };
    version('..v1', 10);
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync(join('..data', 'budgets.yaml'), join(dir, 'budgets.yaml'));
    const file = join(dir, 'budgets.yaml');
    const seen = recorder();
    watchers.push(
      watchBudgetConfig(file, seen.onChange, seen.onError, { current: loadBudgetConfig(file, {}) }),
    );
    version('..v2', 14);
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..v1'), { recursive: true });
    await eventually(() => expect(seen.limits()).toEqual([14]));
  });

  it('reloads on SIGHUP, even when the file did not change', async () => {
    const { seen } = setUp(15);
    expect(process.listenerCount('SIGHUP')).toBeGreaterThan(0); // else the signal would kill us
    process.kill(process.pid, 'SIGHUP');
    await eventually(() => expect(seen.limits()).toEqual([15]));
  });

  it('skips events that change nothing, and catches a change made before the watch began', async () => {
    const dir = freshDir();
    const file = join(dir, 'budgets.yaml');
    writeFileSync(file, configText(10));
    const current = loadBudgetConfig(file, {});
    const seen = recorder();
    writeFileSync(file, configText(16));
    watchers.push(watchBudgetConfig(file, seen.onChange, seen.onError, { current, env: {} }));
    await eventually(() => expect(seen.limits()).toEqual([16]));
    writeFileSync(file, configText(16));
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    await sleep(400);
    expect(seen.limits()).toEqual([16]);
    expect(seen.errors).toEqual([]);
  });

  it('keeps the old config on a bad reload, reports why, and recovers', async () => {
    const { file, seen } = setUp();
    writeFileSync(file, configText(10).replace('limit_usd: 10', 'limit_usd: -1'));
    await eventually(() => expect(seen.errors).toHaveLength(1));
    expect(seen.errors[0]?.message).toBe(
      `${file}:8: budgets.users.default.0.limit_usd: limit_usd must be 0 or more`,
    );
    expect(seen.changes).toEqual([]); // the caller keeps the config in force
    unlinkSync(file);
    await eventually(() => expect(seen.errors).toHaveLength(2));
    expect(seen.errors[1]?.message).toBe(`${file}: cannot read: no such file`);
    writeFileSync(file, configText(17));
    await eventually(() => expect(seen.limits()).toEqual([17]));
    expect(seen.errors).toHaveLength(2);
  });

  it('close() stops watching and removes its SIGHUP listener', async () => {
    const before = process.listenerCount('SIGHUP');
    const { file, seen, watcher } = setUp();
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    watcher.close();
    expect(process.listenerCount('SIGHUP')).toBe(before);
    writeFileSync(file, configText(18));
    await sleep(400);
    expect(seen.changes).toEqual([]);
    expect(seen.errors).toEqual([]);
  });
});
