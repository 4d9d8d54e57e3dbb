import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { readConfigText } from '../../config-file/parse';
import { BudgetConfigError, parseBudgetConfig, sha256Of, type LoadedBudgetConfig } from './load';

export interface WatchOptions {
  /** The config in force: changes are measured against its text. */
  readonly current?: LoadedBudgetConfig;
  /** Quiet time after the last file event before reading (editors write in several steps). */
  readonly debounceMs?: number;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface BudgetConfigWatcher {
  /** Stops watching and removes the SIGHUP listener. */
  close(): void;
}

/**
 * Reloads the budget config on SIGHUP and when its file changes. A good reload is handed to
 * `onChange` whole (the caller swaps it in); a bad one goes to `onError` and the old config stays.
 *
 * The directory is watched, not the file: editors that save by writing a new file and renaming it
 * over the old one, and Kubernetes ConfigMap volumes (which swap a `..data` symlink), replace the
 * file's inode, which a watch on the file itself would never report again. Any event in the
 * directory leads to a read; the text's hash skips events that changed nothing. SIGHUP always
 * reloads, so an operator gets an answer (new config or error) to every signal.
 */
export function watchBudgetConfig(
  file: string,
  onChange: (config: LoadedBudgetConfig) => void,
  onError: (err: BudgetConfigError) => void,
  options: WatchOptions = {},
): BudgetConfigWatcher {
  const { debounceMs = 100, env = process.env } = options;
  // What the last look found. A change between the caller's load and the watch's start raised no
  // event: with `current`, one look below catches it.
  let seen = options.current?.sha256 ?? look(file).found;
  let timer: NodeJS.Timeout | undefined;

  const reload = (always: boolean) => {
    const { text, found } = look(file);
    if (!always && found === seen) return;
    seen = found;
    if (typeof text !== 'string') return onError(text);
    let loaded: LoadedBudgetConfig;
    try {
      loaded = parseBudgetConfig(text, file, env);
    } catch (err) {
      return onError(asConfigError(err, file));
    }
    onChange(loaded);
  };

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(() => reload(false), debounceMs);
    timer.unref();
  };
  const onSignal = () => {
    clearTimeout(timer);
    reload(true);
  };

  const watcher: FSWatcher = watch(dirname(file), { persistent: false }, schedule);
  watcher.on('error', (err) => {
    const message = `cannot watch for changes any more (${err.message}); reload with SIGHUP`;
    onError(new BudgetConfigError([{ file, line: 0, key: '', message }]));
  });
  process.on('SIGHUP', onSignal);
  if (options.current) schedule();

  return {
    close() {
      clearTimeout(timer);
      watcher.close();
      process.off('SIGHUP', onSignal);
    },
  };
}

/** The file's text, or why it cannot be read; `found` is the text's hash or that reason. */
function look(file: string): { text: string | BudgetConfigError; found: string } {
  try {
    const text = readConfigText(file, BudgetConfigError);
    return { text, found: sha256Of(text) };
  } catch (err) {
    const text = asConfigError(err, file);
    return { text, found: text.message };
  }
}

/** A reload must never take the sidecar down: even an unexpected failure keeps the old config. */
function asConfigError(err: unknown, file: string): BudgetConfigError {
  if (err instanceof BudgetConfigError) return err;
  const message = `cannot load: ${err instanceof Error ? err.message : String(err)}`;
  return new BudgetConfigError([{ file, line: 0, key: '', message }]);
}
