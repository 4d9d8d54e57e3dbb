import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Paths of the Prometheus and Alertmanager executables. */
export interface Binaries {
  prometheus: string;
  alertmanager: string;
}

const DEBIAN_PACKAGES = ['prometheus', 'prometheus-alertmanager'];

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function find(): Partial<Binaries> {
  return {
    prometheus: which('prometheus'),
    // Debian names it prometheus-alertmanager; upstream tarballs alertmanager.
    alertmanager: which('prometheus-alertmanager') ?? which('alertmanager'),
  };
}

/**
 * Finds prometheus and alertmanager on PATH. When one is missing and apt-get can be run as root
 * (directly or with `sudo -n`), installs the Debian packages, saying so; otherwise throws a
 * message naming what to install and the Docker alternative.
 */
export function requireBinaries(out: (line: string) => void): Binaries {
  let found = find();
  if (found.prometheus && found.alertmanager) return found as Binaries;
  const names = [!found.prometheus && 'prometheus', !found.alertmanager && 'alertmanager'].filter(
    Boolean,
  );
  const missing = `${names.join(' and ')} ${names.length > 1 ? 'are' : 'is'}`;
  const root = process.getuid?.() === 0;
  const sudo = !root && spawnSync('sudo', ['-n', 'true']).status === 0;
  if (which('apt-get') && (root || sudo)) {
    out(`${missing} not on PATH: installing the Debian packages ${DEBIAN_PACKAGES.join(' ')}`);
    const prefix = root ? [] : ['sudo', '-n'];
    for (const args of [
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', '--no-install-recommends', ...DEBIAN_PACKAGES],
    ]) {
      const [cmd = '', ...rest] = [...prefix, ...args];
      const run = spawnSync(cmd, rest, {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
      if (run.status !== 0) throw new Error(`${[...prefix, ...args].join(' ')} failed`);
    }
    found = find();
    if (found.prometheus && found.alertmanager) return found as Binaries;
  }
  throw new Error(
    `The demo runs Prometheus and Alertmanager locally, and ${missing} not on PATH.\n` +
      `Install them (Debian/Ubuntu: sudo apt-get install ${DEBIAN_PACKAGES.join(' ')}; ` +
      'macOS: brew install prometheus alertmanager; or the release binaries from ' +
      'https://prometheus.io/download/), or run the whole stack in Docker: docker compose up',
  );
}
