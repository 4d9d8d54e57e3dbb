import { createHash } from 'node:crypto';
import {
  ConfigFileError,
  pathIssuesOf,
  type ConfigIssues,
  type PathIssue,
} from '../../config-file/issues';
import {
  isMapping,
  notMappingIssue,
  parseWithPositions,
  readConfigText,
  syntaxOf,
  throwLocated,
} from '../../config-file/parse';
import { budgetConfigSchema, type BudgetConfig } from './schema';

/**
 * A budget config that cannot be used: every issue with its file, line and key, in line order.
 * The sidecar refuses to start with it, and a reload keeps the config in force.
 */
export class BudgetConfigError extends ConfigFileError {
  constructor(issues: ConfigIssues) {
    super(issues);
    this.name = 'BudgetConfigError';
  }
}

/** Secrets the config names, resolved when it is loaded (never written back anywhere). */
export interface BudgetSecrets {
  /** Bearer token for Prometheus: `prometheus.bearer_token`, or the variable `bearer_token_env` names. */
  readonly prometheusBearerToken?: string;
  /** Basic auth password for Prometheus: `basic_auth.password`, or the variable `password_env` names. */
  readonly prometheusPassword?: string;
  /** The bearer token reserve and settle require: the variable `reservations.token_env` names. */
  readonly reservationToken?: string;
  /** With `user_id_mode: hash`: the instrumentation's LLM_FINOPS_USER_ID_HASH_KEY, to hash user ids alike. */
  readonly userIdHashKey?: string;
}

/** A validated budget config; frozen, so a reload swaps it whole and nothing changes it in place. */
export interface LoadedBudgetConfig {
  /** The path it was loaded from, as given. */
  readonly file: string;
  /** Defaults applied, durations in milliseconds. */
  readonly config: BudgetConfig;
  readonly secrets: BudgetSecrets;
  /** SHA-256 (hex) of the file's text: a reload of the same text changes nothing. */
  readonly sha256: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates a budget config; throws `BudgetConfigError` naming every problem. */
export function loadBudgetConfig(file: string, env: Env = process.env): LoadedBudgetConfig {
  return parseBudgetConfig(readConfigText(file, BudgetConfigError), file, env);
}

/** Validates budget config text; `file` names it in errors (and `.json` makes it JSON). */
export function parseBudgetConfig(
  text: string,
  file: string,
  env: Env = process.env,
): LoadedBudgetConfig {
  const parsed = parseWithPositions(text, file, syntaxOf(file, text), BudgetConfigError);
  if (!isMapping(parsed.data)) {
    const hint = 'a budget config has prometheus:, upgrade: and budgets:';
    throwLocated(BudgetConfigError, parsed, [notMappingIssue(parsed.data, hint)]);
  }
  const result = budgetConfigSchema.safeParse(parsed.data);
  if (!result.success) throwLocated(BudgetConfigError, parsed, pathIssuesOf(result.error.issues));
  const config = result.data;
  const issues: PathIssue[] = [...prometheusIssues(config), ...headerIssues(config)];
  const secrets = resolveSecrets(config, env, issues);
  if (issues.length > 0) throwLocated(BudgetConfigError, parsed, issues);
  return deepFreeze({
    file,
    config,
    secrets,
    sha256: sha256Of(text),
  });
}

/** Hex SHA-256 of a config's text, to tell a changed file from an event that changed nothing. */
export function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What the schema alone cannot say about the Prometheus connection. */
function prometheusIssues({ prometheus: p }: BudgetConfig): PathIssue[] {
  const issues: PathIssue[] = [];
  const at = (key: string, message: string) => issues.push({ path: ['prometheus', key], message });
  const url = new URL(p.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    at('url', 'prometheus.url must be an http(s) URL');
  // fetch() refuses URLs with credentials: every query would fail at run time.
  if (url.username || url.password)
    at('url', 'put credentials in prometheus.basic_auth, not in the URL');
  if (p.stale_after <= p.refresh)
    at(
      'stale_after',
      'stale_after must be longer than refresh, or data goes stale between refreshes',
    );
  if (p.bearer_token !== undefined && p.bearer_token_env !== undefined)
    at('bearer_token_env', 'give bearer_token or bearer_token_env, not both');
  if (p.basic_auth && (p.bearer_token !== undefined || p.bearer_token_env !== undefined))
    at('basic_auth', 'give basic_auth or a bearer token, not both');
  if (p.basic_auth?.password !== undefined && p.basic_auth.password_env !== undefined)
    issues.push({
      path: ['prometheus', 'basic_auth', 'password_env'],
      message: 'give password or password_env, not both',
    });
  if (
    p.basic_auth &&
    p.basic_auth.password === undefined &&
    p.basic_auth.password_env === undefined
  )
    at('basic_auth', 'give password or password_env');
  return issues;
}

/** RFC 9110 field names; a name with other characters would never match a request's header. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Field values: no control characters (CR/LF would split the request). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function headerIssues(config: BudgetConfig): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const [key, name] of Object.entries(config.headers))
    if (!HEADER_NAME.test(name))
      issues.push({ path: ['headers', key], message: `"${name}" is not a valid header name` });
  for (const [name, value] of Object.entries(config.prometheus.headers)) {
    const path = ['prometheus', 'headers', name];
    if (!HEADER_NAME.test(name)) issues.push({ path, message: 'not a valid header name' });
    else if (!HEADER_VALUE.test(value)) issues.push({ path, message: 'not a valid header value' });
  }
  return issues;
}

/** Reads the variables the config names; a named variable that is unset is an issue. */
function resolveSecrets(config: BudgetConfig, env: Env, issues: PathIssue[]): BudgetSecrets {
  const fromEnv = (path: string[], name: string | undefined): string | undefined => {
    if (name === undefined) return undefined;
    const value = env[name];
    if (value === undefined || value === '')
      issues.push({
        path,
        message: `environment variable ${name} is ${value === undefined ? 'not set' : 'empty'}`,
      });
    return value;
  };
  const p = config.prometheus;
  return {
    prometheusBearerToken:
      p.bearer_token ?? fromEnv(['prometheus', 'bearer_token_env'], p.bearer_token_env),
    prometheusPassword:
      p.basic_auth?.password ??
      fromEnv(['prometheus', 'basic_auth', 'password_env'], p.basic_auth?.password_env),
    reservationToken: fromEnv(['reservations', 'token_env'], config.reservations.token_env),
    // Without the key, no hashed user label would ever match: users would never be capped.
    userIdHashKey:
      config.user_id_mode === 'hash'
        ? fromEnv(['user_id_mode'], 'LLM_FINOPS_USER_ID_HASH_KEY')
        : undefined,
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
