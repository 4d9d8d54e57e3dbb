/**
 * The recorded provider exchanges (see the README beside them) and how to replay them: recorded
 * status and headers, the JSON body with its original number literals, or the `.sse` file byte
 * for byte. Files are read asynchronously, once per directory and name.
 */
import { access, readFile, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

export const RECORDINGS_DIR_ENV = 'LLM_FINOPS_RECORDINGS_DIR';

export interface RecordedRequest {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
}

export interface Recording {
  name: string;
  status: number;
  headers: Record<string, string>;
  contentType: string;
  /** The JSON body text (number literals as recorded), or the whole SSE text. */
  body: string;
  /** For streams: the SSE events, in order; joined they are `body` exactly. */
  events: readonly string[] | undefined;
  request: RecordedRequest;
}

interface ResponseFile {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  body_file?: string;
}

/** Walks up from this module (source or dist) to the llm-finops package root. */
async function packageRoot(): Promise<string> {
  let dir = __dirname;
  for (;;) {
    try {
      const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
      };
      if (pkg.name === 'llm-finops') return dir;
    } catch {
      // no package.json here
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`llm-finops package root not found above ${__dirname}`);
    dir = parent;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * The recordings directory: `explicit`, else `$LLM_FINOPS_RECORDINGS_DIR`, else the repo copy
 * `test/fixtures/recordings`, else the shared folder beside the repo (`../shared/provider-recordings`).
 */
export async function resolveRecordingsDir(explicit?: string): Promise<string> {
  const chosen = explicit ?? process.env[RECORDINGS_DIR_ENV];
  if (chosen) return path.resolve(chosen);
  defaultDir ??= findDefaultDir();
  return defaultDir;
}

let defaultDir: Promise<string> | undefined;

async function findDefaultDir(): Promise<string> {
  const root = await packageRoot();
  const inRepo = path.join(root, 'test', 'fixtures', 'recordings');
  if (await exists(path.join(inRepo, 'manifest.json'))) return inRepo;
  return path.resolve(root, '..', 'shared', 'provider-recordings');
}

/** Names of all recordings in the directory (from `<name>.response.json`). */
export async function listRecordings(dir?: string): Promise<string[]> {
  const resolved = await resolveRecordingsDir(dir);
  const files = await readdir(resolved);
  return files
    .filter((file) => file.endsWith('.response.json'))
    .map((file) => file.slice(0, -'.response.json'.length))
    .sort();
}

/**
 * The body's own text from the response file, so literals such as `1.0` survive; falls back to
 * re-serialising when the text cannot be isolated.
 */
function rawBodyText(fileText: string, parsed: unknown): string {
  const start = fileText.search(/\n {2}"body": /);
  const end = fileText.lastIndexOf('}');
  if (start >= 0 && end > start) {
    const raw = fileText
      .slice(start, end)
      .replace(/^\s*"body": /, '')
      .trimEnd()
      .replace(/\n {2}/g, '\n');
    try {
      if (isDeepStrictEqual(JSON.parse(raw), parsed)) return raw;
    } catch {
      // not isolated cleanly
    }
  }
  return JSON.stringify(parsed);
}

/** Splits SSE text after each blank line; the pieces concatenate to the input exactly. */
export function splitSseEvents(text: string): string[] {
  const events: string[] = [];
  for (const piece of text.split(/(?<=\n\n)/)) {
    // Extra blank lines belong to the event before them.
    if (events.length > 0 && piece.trim() === '') events[events.length - 1] += piece;
    else events.push(piece);
  }
  return events;
}

async function readRecording(dir: string, name: string): Promise<Recording> {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.includes('..')) {
    throw new Error(`invalid recording name: ${name}`);
  }
  const responsePath = path.join(dir, `${name}.response.json`);
  const [responseText, requestText] = await Promise.all([
    readFile(responsePath, 'utf8'),
    readFile(path.join(dir, `${name}.request.json`), 'utf8'),
  ]);
  const response = JSON.parse(responseText) as ResponseFile;
  const request = JSON.parse(requestText) as RecordedRequest;
  const contentType = response.headers['content-type'] ?? 'application/json';
  if (response.body_file !== undefined) {
    const body = await readFile(path.join(dir, path.basename(response.body_file)), 'utf8');
    return {
      name,
      status: response.status,
      headers: response.headers,
      contentType,
      body,
      events: splitSseEvents(body),
      request,
    };
  }
  return {
    name,
    status: response.status,
    headers: response.headers,
    contentType,
    body: rawBodyText(responseText, response.body),
    events: undefined,
    request,
  };
}

const cache = new Map<string, Promise<Recording>>();

/** Loads (once) a recording by name, e.g. `openai-chat-stream-usage`. */
export async function loadRecording(name: string, dir?: string): Promise<Recording> {
  const resolved = await resolveRecordingsDir(dir);
  const key = `${resolved}\0${name}`;
  let pending = cache.get(key);
  if (!pending) {
    pending = readRecording(resolved, name);
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}
