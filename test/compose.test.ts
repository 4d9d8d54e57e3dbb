/**
 * docker-compose.yml, validated statically (no Docker engine here).
 *
 * Proves: Debian's docker-compose (1.29) accepts the file, and the checks below run on the
 * configuration it resolved (anchors merged, paths absolute, ${VAR:-default} filled in), so
 * they judge what compose would run:
 * - images: every image and every Dockerfile FROM is pinned to a version tag;
 * - health: every service has a health check whose program exists in its image;
 * - files: every bind-mounted host path exists (a file where the container expects a file),
 *   every absolute path a command names is mounted, every file a Dockerfile COPYs exists;
 * - ports: only grafana and demo-app publish, and what they publish is what they listen on;
 * - addresses: every URL or host:port one service uses to reach another (environment, command
 *   arguments, health checks, Prometheus scrape and Alertmanager targets, every URL of the
 *   Alertmanager config (its receivers), Grafana datasources, the Collector's exporters,
 *   demo/budgets.yaml's prometheus.url) names a service of the file,
 *   a port that service listens on (read from its command, environment or config), bound on
 *   all interfaces; what a service calls at start-up is in its depends_on, healthy first;
 * - configs: promtool and amtool accept the mounted Prometheus and Alertmanager configs laid out
 *   as in the containers; compose/alertmanager.yml is prometheus/alertmanager.yml generated for
 *   the alert-receiver service; the Collector's pipelines use defined components; the sidecar's
 *   budgets file passes the sidecar's own validation;
 * - alert delivery, natively: the alert-receiver service's command and health check run here,
 *   and a real Alertmanager with compose/alertmanager.yml (the service name resolved to it)
 *   delivers an alert that the receiver logs;
 * - entry points: every dist/*.js a command runs has its TypeScript source in the build and in
 *   the image.
 *
 * Cannot prove: that the pinned tags exist on Docker Hub or that the images build and start;
 * that Prometheus 3.5 accepts what promtool 2.42 (Debian's) accepts; that the contrib Collector
 * accepts every key of its config (only its pipeline wiring is checked); that the image tools
 * table below is still true of the pinned images (it records what they ship: busybox wget in
 * the Prometheus, Alertmanager and Grafana images, nothing in the Collector's, which is why
 * otel-collector/Dockerfile adds a static busybox).
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadBudgetConfig } from '../src/sidecar/config/load';
import { startAlertmanager } from './helpers/alertmanager';
import { freePort, ROOT, startNode } from './helpers/child';
import { COMPOSE_WEBHOOK_URL, composeAlertmanagerConfig } from './helpers/compose-alertmanager';

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: { published: number; target: number }[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const SERVICES = [
  'otel-collector',
  'prometheus',
  'alertmanager',
  'alert-receiver',
  'grafana',
  'sidecar',
  'fake-provider',
  'demo-app',
  'traffic',
];
const PUBLISHED = ['grafana', 'demo-app'];
const COLLECTOR_CONFIG = 'otel-collector/config.yaml';

/** Programs each image family has for a health check (see the header). */
const IMAGE_TOOLS: Record<string, string[]> = {
  'prom/prometheus': ['wget'],
  'prom/alertmanager': ['wget'],
  'grafana/grafana': ['wget'],
  node: ['node'],
  'otel/opentelemetry-collector-contrib': [],
  busybox: ['/busybox'],
};

/** Where the off-the-shelf images listen unless their command or environment says otherwise. */
const DEFAULT_LISTEN: Record<string, { flag?: string; env?: string; address: string }> = {
  'prom/prometheus': { flag: '--web.listen-address', address: '0.0.0.0:9090' },
  'prom/alertmanager': { flag: '--web.listen-address', address: '0.0.0.0:9093' },
  'grafana/grafana': { env: 'GF_SERVER_HTTP_PORT', address: '0.0.0.0:3000' },
};

let compose: Compose;
let configRun: { status: number | null; stderr: string };
let collector: CollectorConfig;
let work: string;

beforeAll(() => {
  const run = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    cwd: ROOT,
    encoding: 'utf8',
    // The defaults of ${VAR:-default} are what is checked, not this machine's environment.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
  });
  configRun = { status: run.status, stderr: `${run.error?.message ?? ''}${run.stderr}` };
  compose = (parse(run.stdout || 'services: {}') ?? { services: {} }) as Compose;
  collector = parse(readRepo(COLLECTOR_CONFIG)) as CollectorConfig;
  work = mkdtempSync(join(tmpdir(), 'llm-finops-compose-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function readRepo(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

function services(): [string, Service][] {
  return Object.entries(compose.services);
}

/** Image family of a service: its image without tag, or the base of its Dockerfile's last stage. */
function imageFamily(service: Service): string {
  const image = service.build ? (fromLines(service).at(-1) ?? '') : (service.image ?? '');
  return image.replace(/[:@].*$/, '');
}

function dockerfileOf(service: Service): string {
  const build = service.build!;
  return join(build.context, build.dockerfile ?? 'Dockerfile');
}

/** Base images of a Dockerfile, stage references left out. */
function fromLines(service: Service): string[] {
  const stages = new Set<string>();
  const bases: string[] = [];
  for (const line of readFileSync(dockerfileOf(service), 'utf8').split('\n')) {
    const m = /^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line.trim());
    if (!m) continue;
    if (!stages.has(m[1]!)) bases.push(m[1]!);
    if (m[2]) stages.add(m[2]);
  }
  return bases;
}

interface Mount {
  source: string;
  target: string;
  bind: boolean;
}

function mounts(service: Service): Mount[] {
  return (service.volumes ?? []).map((spec) => {
    const [source = '', target = ''] = spec.split(':');
    return { source, target, bind: source.startsWith('/') };
  });
}

/** The service that mounts repository path `path`, and the container path it gets. */
function mountOf(path: string): { service: string; target: string } {
  const abs = join(ROOT, path);
  for (const [name, service] of services()) {
    for (const m of mounts(service)) {
      if (m.bind && (abs === m.source || abs.startsWith(`${m.source}/`))) {
        return { service: name, target: join(m.target, relative(m.source, abs)) };
      }
    }
  }
  throw new Error(`${path} is not mounted by any service`);
}

/** The repository file that `service` mounts at container path `target`. */
function sourceOf(service: string, target: string): string {
  for (const m of mounts(compose.services[service]!)) {
    if (m.bind && (target === m.target || target.startsWith(`${m.target}/`)))
      return join(m.source, relative(m.target, target));
  }
  throw new Error(`${service}: nothing mounted at ${target}`);
}

/** Value of `--flag=value` or `--flag value` in a command. */
function flag(command: string[] | undefined, name: string): string | undefined {
  const args = command ?? [];
  for (const [i, arg] of args.entries()) {
    if (arg === name) return args[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

// ---- what each service listens on ----------------------------------------------------------

interface CollectorConfig {
  extensions?: Record<string, unknown>;
  receivers?: Record<string, unknown>;
  processors?: Record<string, unknown>;
  exporters?: Record<string, unknown>;
  connectors?: Record<string, unknown>;
  service: {
    extensions?: string[];
    pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }>;
  };
}

/** Every `endpoint` string inside a config subtree. */
function endpoints(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(endpoints);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'endpoint' && typeof value === 'string' ? [value] : endpoints(value),
  );
}

/** host:port -> [host, port]; an empty host is all interfaces. */
function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at) || '0.0.0.0', Number(address.slice(at + 1))];
}

/** Port -> bind address of every service. */
function listening(): Map<string, Map<number, string>> {
  const result = new Map<string, Map<number, string>>();
  for (const [name, service] of services()) {
    const ports = new Map<number, string>();
    const add = (address: string) => {
      const [host, port] = splitAddress(address);
      ports.set(port, host);
    };
    const family = imageFamily(service);
    const defaults = DEFAULT_LISTEN[family];
    if (name === 'otel-collector') {
      // Receivers and extensions serve; of the exporters only `prometheus` is a server.
      for (const address of [
        ...endpoints(collector.receivers),
        ...endpoints(collector.extensions),
        ...endpoints((collector.exporters ?? {}).prometheus),
      ]) {
        add(address);
      }
    } else if (defaults) {
      const fromFlag = defaults.flag && flag(service.command, defaults.flag);
      const fromEnv = defaults.env && service.environment?.[defaults.env];
      add(fromFlag || (fromEnv ? `0.0.0.0:${fromEnv}` : defaults.address));
    } else if (family === 'node') {
      // Our CLIs and the demo app: --host/--port, or HOST/PORT; 127.0.0.1 unless told.
      const port = flag(service.command, '--port') ?? service.environment?.PORT;
      const host = flag(service.command, '--host') ?? service.environment?.HOST ?? '127.0.0.1';
      if (port) add(`${host}:${port}`);
    }
    result.set(name, ports);
  }
  return result;
}

// ---- every address one service uses to reach another ---------------------------------------

interface Reference {
  from: string;
  where: string;
  host: string;
  port: number;
  /** Called as the service starts (so it must be in depends_on), not polled (scrape, probe). */
  atStart: boolean;
}

function urlReference(from: string, where: string, value: string, atStart: boolean): Reference[] {
  const m = /\bhttps?:\/\/[^\s'"`)]+/.exec(value);
  if (!m) return [];
  const url = new URL(m[0]);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return [{ from, where, host: url.hostname, port, atStart }];
}

function addressReference(from: string, where: string, address: string, atStart: boolean) {
  if (/^https?:\/\//.test(address)) return urlReference(from, where, address, atStart);
  const [host, port] = splitAddress(address);
  return [{ from, where, host, port, atStart }];
}

interface PrometheusConfig {
  rule_files?: string[];
  alerting?: { alertmanagers?: { static_configs?: { targets: string[] }[] }[] };
  scrape_configs?: { job_name: string; static_configs?: { targets: string[] }[] }[];
}

function prometheusConfig(): PrometheusConfig {
  return parse(readRepo('compose/prometheus.yml')) as PrometheusConfig;
}

/** The Alertmanager config compose runs (the host file mounted at its --config.file). */
function alertmanagerConfigFile(): string {
  const target = flag(compose.services.alertmanager?.command, '--config.file');
  if (!target) throw new Error('alertmanager: no --config.file');
  return sourceOf('alertmanager', target);
}

/** Every http(s) URL among the string values of a parsed config, with its key path. */
function urlsIn(node: unknown, path = ''): [string, string][] {
  if (typeof node === 'string') return /^https?:\/\//.test(node) ? [[path, node]] : [];
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => urlsIn(value, `${path}.${key}`));
}

function grafanaDatasourceFiles(): string[] {
  const dir = join(ROOT, 'grafana', 'provisioning', 'datasources');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join('grafana', 'provisioning', 'datasources', f));
}

function references(): Reference[] {
  const refs: Reference[] = [];
  for (const [name, service] of services()) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      refs.push(...urlReference(name, `environment ${key}`, String(value), true));
    }
    for (const arg of service.command ?? []) {
      refs.push(...urlReference(name, `command ${arg}`, arg, true));
    }
    for (const arg of service.healthcheck?.test ?? []) {
      refs.push(...urlReference(name, 'healthcheck', arg, false));
    }
  }

  const prom = prometheusConfig();
  for (const job of prom.scrape_configs ?? []) {
    for (const target of (job.static_configs ?? []).flatMap((s) => s.targets)) {
      refs.push(...addressReference('prometheus', `scrape job ${job.job_name}`, target, false));
    }
  }
  for (const am of prom.alerting?.alertmanagers ?? []) {
    for (const target of (am.static_configs ?? []).flatMap((s) => s.targets)) {
      refs.push(...addressReference('prometheus', 'alerting target', target, false));
    }
  }

  // Alertmanager calls its receivers (commented-out ones are not in the parsed config).
  for (const [where, url] of urlsIn(parse(readFileSync(alertmanagerConfigFile(), 'utf8')))) {
    refs.push(...urlReference('alertmanager', `config ${where}`, url, false));
  }

  for (const file of grafanaDatasourceFiles()) {
    const doc = parse(readRepo(file)) as { datasources?: { name: string; url?: string }[] };
    for (const ds of doc.datasources ?? []) {
      if (ds.url) refs.push(...urlReference('grafana', `${file} ${ds.name}`, ds.url, true));
    }
  }

  // Exporters send to others (the prometheus exporter serves instead: see listening()).
  for (const [exporter, config] of Object.entries(collector.exporters ?? {})) {
    if (exporter.split('/')[0] === 'prometheus') continue;
    for (const address of endpoints(config)) {
      refs.push(...addressReference('otel-collector', `exporter ${exporter}`, address, false));
    }
  }

  // A missing file is reported by the mount and sidecar tests.
  if (existsSync(join(ROOT, 'demo', 'budgets.yaml'))) {
    const budgets = parse(readRepo('demo/budgets.yaml')) as { prometheus: { url: string } };
    refs.push(
      ...urlReference('sidecar', 'demo/budgets.yaml prometheus.url', budgets.prometheus.url, true),
    );
  }
  return refs;
}

/** Repository paths the Dockerfile COPYs into the image. */
function dockerCopies(): string[] {
  return [...readRepo('Dockerfile').matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) =>
    m[1]!.trim().split(/\s+/).slice(0, -1),
  );
}

/** Entries of .dockerignore (the build context leaves them out). */
function dockerIgnored(): string[] {
  return readRepo('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** TypeScript sources under a repository folder. */
function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

// ---- tests -----------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it("Debian's docker-compose accepts it and resolves the expected services", () => {
    expect(configRun.status, configRun.stderr).toBe(0);
    expect(Object.keys(compose.services).sort()).toEqual([...SERVICES].sort());
  });

  it('pins every image and every Dockerfile base to a version tag', () => {
    const pinned = /^[\w./-]+:v?\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?$/;
    const bases = new Map<string, string[]>();
    for (const [name, service] of services()) {
      const images = service.build ? fromLines(service) : [service.image ?? ''];
      for (const image of images) expect(image, name).toMatch(pinned);
      bases.set(name, images);
    }
    // The versions the stack is documented and tested with.
    expect(compose.services.prometheus!.image).toMatch(/^prom\/prometheus:v3\.\d+\.\d+$/);
    expect(bases.get('otel-collector')).toContainEqual(
      expect.stringMatching(/^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/),
    );
    for (const name of ['sidecar', 'fake-provider', 'demo-app', 'traffic', 'alert-receiver']) {
      expect(bases.get(name), name).toEqual([
        expect.stringMatching(/^node:20\.\d+\.\d+-bookworm-slim$/),
      ]);
    }
  });

  it('gives every service a health check that its image can run, and a restart policy', () => {
    for (const [name, service] of services()) {
      const test = service.healthcheck?.test ?? [];
      expect(service.healthcheck?.disable, name).toBeFalsy();
      expect(test[0], name).toBe('CMD');
      const tools = IMAGE_TOOLS[imageFamily(service)];
      // The Collector's own image has no tools: its Dockerfile's busybox stage provides one.
      const available =
        name === 'otel-collector'
          ? fromLines(service).flatMap((b) => IMAGE_TOOLS[b.replace(/:.*$/, '')] ?? [])
          : tools;
      expect(available, `${name}: tools of ${imageFamily(service)}`).toBeDefined();
      expect(available, name).toContain(test[1]);
      expect((service as { restart?: string }).restart, name).toBe('unless-stopped');
    }
  });

  it('runs the Node services as a non-root user of the image built by the Dockerfile', () => {
    const dockerfile = readRepo('Dockerfile');
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBeDefined();
    expect(['root', '0']).not.toContain(users.at(-1));
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build\b/m);
  });

  it('mounts only files that exist, where the containers read them', () => {
    const missing: string[] = [];
    for (const [name, service] of services()) {
      for (const m of mounts(service)) {
        if (!m.bind) {
          expect(Object.keys(compose.volumes ?? {}), `${name}: volume ${m.source}`).toContain(
            m.source,
          );
          continue;
        }
        expect(m.source.startsWith(`${ROOT}/`), `${name}: ${m.source} inside the repo`).toBe(true);
        if (!existsSync(m.source)) {
          missing.push(`${name}: ${relative(ROOT, m.source)}`);
          continue;
        }
        // A file mounted where the container expects a file (a missing source would be
        // created by Docker as an empty directory).
        const isFile = statSync(m.source).isFile();
        expect(isFile, `${name}: ${m.source} -> ${m.target}`).toBe(
          /\.(ya?ml|json|tmpl)$/.test(m.target),
        );
      }
      // Every absolute path a command names (config files, storage) is mounted.
      for (const arg of service.command ?? []) {
        const path = /^(?:--[\w.-]+=)?(\/\S*)$/.exec(arg)?.[1];
        if (!path) continue;
        const covered = mounts(service).some(
          (m) => path === m.target || path.startsWith(`${m.target}/`),
        );
        expect(covered, `${name}: ${arg} is mounted`).toBe(true);
      }
    }
    expect(missing, 'bind-mounted paths missing from the repo').toEqual([]);
  });

  it('publishes only Grafana and the demo app, on the ports they listen on', () => {
    const ports = listening();
    for (const [name, service] of services()) {
      const published = service.ports ?? [];
      if (!PUBLISHED.includes(name)) {
        expect(published, name).toEqual([]);
        continue;
      }
      expect(published.length, name).toBeGreaterThan(0);
      for (const p of published) {
        expect([...ports.get(name)!.keys()], name).toContain(p.target);
        expect(ports.get(name)!.get(p.target), `${name} binds all interfaces`).toBe('0.0.0.0');
      }
    }
  });

  it('reaches every service by its name, on a port it listens on', () => {
    const ports = listening();
    const problems: string[] = [];
    const refs = references();
    for (const ref of refs) {
      const self = ['127.0.0.1', 'localhost'].includes(ref.host);
      const target = self ? ref.from : ref.host;
      const label = `${ref.from} (${ref.where}) -> ${ref.host}:${ref.port}`;
      const served = ports.get(target);
      if (!served) problems.push(`${label}: no service ${target}`);
      else if (!served.has(ref.port)) {
        problems.push(
          `${label}: ${target} listens on ${[...served.keys()].join(', ') || 'nothing'}`,
        );
      } else if (!self && !['0.0.0.0', '::'].includes(served.get(ref.port)!)) {
        problems.push(`${label}: ${target} binds ${served.get(ref.port)} only`);
      }
    }
    expect(problems).toEqual([]);
    // The check saw the links the stack depends on.
    const links = new Set(refs.map((r) => `${r.from}->${r.host}:${r.port}`));
    for (const link of [
      'demo-app->otel-collector:4318',
      'demo-app->sidecar:8787',
      'demo-app->fake-provider:8090',
      'traffic->demo-app:8080',
      'sidecar->prometheus:9090',
      'prometheus->otel-collector:8889',
      'prometheus->sidecar:8787',
      'prometheus->alertmanager:9093',
      'alertmanager->alert-receiver:9095',
    ]) {
      expect([...links]).toContain(link);
    }
  });

  it('starts every service after the healthy services it calls at start-up', () => {
    for (const [name, service] of services()) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(SERVICES, `${name} depends on ${dep}`).toContain(dep);
        expect(condition, `${name} -> ${dep}`).toBe('service_healthy');
      }
    }
    for (const ref of references()) {
      if (!ref.atStart || ['127.0.0.1', 'localhost'].includes(ref.host)) continue;
      expect(
        Object.keys(compose.services[ref.from]!.depends_on ?? {}),
        `${ref.from} (${ref.where})`,
      ).toContain(ref.host);
    }
    // No cycle: compose could start nothing.
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string): void => {
      if (done.has(name)) return;
      expect(visiting.has(name), `dependency cycle through ${name}`).toBe(false);
      visiting.add(name);
      for (const dep of Object.keys(compose.services[name]?.depends_on ?? {})) visit(dep);
      visiting.delete(name);
      done.add(name);
    };
    SERVICES.forEach(visit);
  });
});

describe('configs the stack mounts', () => {
  it('Prometheus: promtool accepts compose/prometheus.yml with the rules where it mounts them', () => {
    const config = mountOf('compose/prometheus.yml');
    expect(config.service).toBe('prometheus');
    expect(flag(compose.services.prometheus!.command, '--config.file')).toBe(config.target);
    // Lay out the files as in the container: config and mounted rules, same relative paths.
    const root = join(work, 'prometheus');
    cpSync(join(ROOT, 'compose', 'prometheus.yml'), join(root, 'prometheus.yml'));
    const rules = mountOf('prometheus/rules');
    const rulesDir = join(root, relative(dirname(config.target), rules.target));
    cpSync(join(ROOT, 'prometheus', 'rules'), rulesDir, { recursive: true });
    for (const pattern of prometheusConfig().rule_files ?? []) {
      expect(resolve(dirname(config.target), dirname(pattern)), pattern).toBe(rules.target);
    }
    const run = spawnSync('promtool', ['check', 'config', join(root, 'prometheus.yml')], {
      encoding: 'utf8',
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const files = readdirSync(join(ROOT, 'prometheus', 'rules')).filter((f) => f.endsWith('.yaml'));
    expect(run.stdout).toContain(`SUCCESS: ${files.length} rule files found`);
  });

  it('Alertmanager: compose/alertmanager.yml is prometheus/alertmanager.yml generated for alert-receiver', async () => {
    expect(alertmanagerConfigFile()).toBe(join(ROOT, 'compose', 'alertmanager.yml'));
    const generated = composeAlertmanagerConfig();
    expect(generated).toContain(`url: ${COMPOSE_WEBHOOK_URL}`);
    await expect(generated).toMatchFileSnapshot('../compose/alertmanager.yml');
  });

  it('Alertmanager: amtool accepts the mounted config with its templates where it mounts them', () => {
    const config = mountOf('compose/alertmanager.yml');
    expect(config.service).toBe('alertmanager');
    expect(flag(compose.services.alertmanager!.command, '--config.file')).toBe(config.target);
    const root = join(work, 'alertmanager');
    cpSync(join(ROOT, 'compose', 'alertmanager.yml'), join(root, 'alertmanager.yml'));
    const templates = mountOf('prometheus/templates');
    cpSync(
      join(ROOT, 'prometheus', 'templates'),
      join(root, relative(dirname(config.target), templates.target)),
      {
        recursive: true,
      },
    );
    const doc = parse(readRepo('compose/alertmanager.yml')) as { templates?: string[] };
    for (const pattern of doc.templates ?? []) {
      expect(resolve(dirname(config.target), dirname(pattern)), pattern).toBe(templates.target);
    }
    const run = spawnSync('amtool', ['check-config', join(root, 'alertmanager.yml')], {
      encoding: 'utf8',
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/\b1 templates\b/);
  });

  it('Collector: every pipeline uses defined components; metrics go out with the scraped names and labels', () => {
    const config = mountOf(COLLECTOR_CONFIG);
    expect(config.service).toBe('otel-collector');
    expect(flag(compose.services['otel-collector']!.command, '--config')).toBe(config.target);

    const defined = (section: Record<string, unknown> | undefined) => Object.keys(section ?? {});
    for (const ext of collector.service.extensions ?? [])
      expect(defined(collector.extensions)).toContain(ext);
    const pipelines = Object.entries(collector.service.pipelines);
    expect(pipelines.map(([p]) => p).sort()).toEqual(['metrics', 'traces']);
    for (const [name, p] of pipelines) {
      const receivers = [...defined(collector.receivers), ...defined(collector.connectors)];
      const exporters = [...defined(collector.exporters), ...defined(collector.connectors)];
      for (const r of p.receivers) expect(receivers, `${name} receiver`).toContain(r);
      for (const x of p.processors ?? [])
        expect(defined(collector.processors), `${name} processor`).toContain(x);
      for (const e of p.exporters) expect(exporters, `${name} exporter`).toContain(e);
      // memory_limiter must see data first to refuse it before anything else buffers it.
      expect(p.processors?.[0], name).toBe('memory_limiter');
      expect(p.processors, name).toContain('batch');
    }
    // Every defined component is used somewhere (an unused one is a sign of a wiring mistake).
    const used = pipelines.flatMap(([, p]) => [
      ...p.receivers,
      ...(p.processors ?? []),
      ...p.exporters,
    ]);
    for (const c of [
      ...defined(collector.receivers),
      ...defined(collector.processors),
      ...defined(collector.exporters),
    ]) {
      expect(used, 'component used by a pipeline').toContain(c);
    }
    expect(collector.service.pipelines.metrics!.exporters).toEqual(['prometheus']);
    expect(collector.service.pipelines.traces!.exporters).toEqual(['debug']);
    // Resource attributes as labels would make the series' labels differ from the direct scrape.
    const prom = (collector.exporters ?? {}).prometheus as {
      resource_to_telemetry_conversion?: { enabled?: boolean };
    };
    expect(prom.resource_to_telemetry_conversion?.enabled ?? false).toBe(false);
    expect(
      endpoints(collector.receivers)
        .map((a) => splitAddress(a)[1])
        .sort(),
    ).toEqual([4317, 4318]);
  });

  it('Grafana: the provisioned dashboards are read from where the dashboards are mounted', () => {
    const dashboards = mountOf('grafana/dashboards');
    expect(dashboards).toEqual({
      service: 'grafana',
      target: '/var/lib/grafana/dashboards/llm-finops',
    });
    expect(mountOf('grafana/provisioning')).toEqual({
      service: 'grafana',
      target: '/etc/grafana/provisioning',
    });
    const dir = join(ROOT, 'grafana', 'provisioning', 'dashboards');
    const providers = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap(
        (f) =>
          (
            parse(readFileSync(join(dir, f), 'utf8')) as {
              providers?: { options?: { path?: string } }[];
            }
          ).providers ?? [],
      );
    expect(providers.map((p) => p.options?.path)).toContain(dashboards.target);
    expect(grafanaDatasourceFiles().length).toBeGreaterThan(0);
  });

  it('sidecar: the mounted budgets file passes the sidecar validation, with its secrets in the environment', () => {
    const budgets = mountOf('demo/budgets.yaml');
    expect(budgets.service).toBe('sidecar');
    expect(flag(compose.services.sidecar!.command, '--config')).toBe(budgets.target);
    const env = compose.services.sidecar!.environment ?? {};
    expect(existsSync(join(ROOT, 'demo', 'budgets.yaml')), 'demo/budgets.yaml in the repo').toBe(
      true,
    );
    const loaded = loadBudgetConfig(join(ROOT, 'demo', 'budgets.yaml'), env);
    const tokenEnv = loaded.config.reservations.token_env;
    if (tokenEnv) {
      // Reserve and settle need the same token on both sides.
      expect(env[tokenEnv], `sidecar ${tokenEnv}`).toBeTruthy();
      expect(compose.services['demo-app']!.environment?.LLM_FINOPS_SIDECAR_TOKEN).toBe(
        env[tokenEnv],
      );
    }
  });
});

describe('the Node image', () => {
  it('copies files that exist and that the build context keeps', () => {
    // package.json: the demo app imports llm-finops by name (package self-reference);
    // pricing/: the bundled catalog, read at run time.
    expect(dockerCopies()).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'pricing']),
    );
    for (const source of dockerCopies()) {
      expect(existsSync(join(ROOT, source)), `Dockerfile COPY ${source}`).toBe(true);
      expect(dockerIgnored(), `.dockerignore keeps out COPY ${source}`).not.toContain(source);
    }
  });

  it('has the sources of every dist/*.js a service runs, compiled by npm run build', () => {
    const include = (JSON.parse(readRepo('tsconfig.build.json')) as { include: string[] }).include;
    const copied = dockerCopies();
    const missing: string[] = [];
    let entries = 0;
    for (const [name, service] of services()) {
      if (imageFamily(service) !== 'node') continue;
      for (const arg of service.command ?? []) {
        const m = /^(?:\.\/)?dist\/(.+)\.js$/.exec(arg);
        if (!m) continue;
        entries++;
        const source = `${m[1]}.ts`;
        const top = source.split('/')[0]!;
        if (!existsSync(join(ROOT, source))) missing.push(`${name}: ${source} (for ${arg})`);
        expect(include, `${source} is compiled by npm run build`).toContain(top);
        expect(copied, `${source} is copied into the image`).toContain(top);
      }
    }
    expect(entries).toBe(6);
    expect(missing, 'entry point sources not in the repo').toEqual([]);
  });

  it('builds from what it copies: no source in it imports a file left out of the image', () => {
    const copied = dockerCopies();
    const outside: string[] = [];
    const folders = copied.filter((c) => statSync(join(ROOT, c)).isDirectory());
    let checked = 0;
    for (const file of folders.flatMap(tsFiles)) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\(\s*|require\(\s*)'(\.{1,2}\/[^']+)'/g)) {
        checked++;
        const target = relative(ROOT, resolve(ROOT, dirname(file), m[1]!));
        if (!copied.includes(target.split('/')[0]!)) outside.push(`${file} imports ${m[1]}`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(outside).toEqual([]);
  });
});

describe('alert delivery, natively', () => {
  it("Alertmanager with compose/alertmanager.yml delivers to the alert-receiver service's command", async () => {
    const service = compose.services['alert-receiver']!;
    const [program, ...args] = service.command ?? [];
    expect(program).toBe('node');
    const listen = { host: flag(args, '--host'), port: flag(args, '--port') };
    expect(listen).toEqual({ host: '0.0.0.0', port: new URL(COMPOSE_WEBHOOK_URL).port });
    // The compose command on a free loopback port (9095 may be taken here).
    const port = String(await freePort());
    const native = args.map((a, i) =>
      args[i - 1] === '--port' ? port : args[i - 1] === '--host' ? '127.0.0.1' : a,
    );
    const receiver = startNode(native, {});
    let am: Awaited<ReturnType<typeof startAlertmanager>> | undefined;
    try {
      await receiver.waitFor('listening on');
      // Its health check, as compose runs it.
      const [, tool, ...check] = service.healthcheck?.test ?? [];
      expect(tool).toBe('node');
      const health = spawnSync(
        process.execPath,
        check.map((a) => a.replace(':9095', `:${port}`)),
        {
          encoding: 'utf8',
          timeout: 10_000,
        },
      );
      expect(health.status, health.stderr).toBe(0);
      // The mounted config, the service name resolved to the receiver, templates by absolute
      // path, the first notification after 1 s instead of the route's group_wait.
      const config = readRepo('compose/alertmanager.yml')
        .replaceAll(new URL(COMPOSE_WEBHOOK_URL).origin, `http://127.0.0.1:${port}`)
        .replace(/^(\s*)group_wait: \S+/gm, '$1group_wait: 1s')
        .replace('- templates/*.tmpl', `- ${join(ROOT, 'prometheus', 'templates', '*.tmpl')}`);
      expect(config).not.toContain('alert-receiver:');
      am = await startAlertmanager(config);
      await am.postAlerts([
        {
          labels: {
            alertname: 'LlmBudgetExceeded',
            severity: 'critical',
            scope: 'user',
            subject: 'alice',
            window: 'day',
          },
          annotations: { summary: 'LLM budget exceeded: user "alice".' },
        },
      ]);
      await receiver.waitFor(
        'pager: FIRING LlmBudgetExceeded scope=user severity=critical subject=alice window=day - LLM budget exceeded: user "alice".',
        20_000,
      );
    } finally {
      await am?.stop();
      await receiver.stop();
    }
  }, 40_000);
});
