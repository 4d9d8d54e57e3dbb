import { reportInternalError } from './guard';

/** Sees each stream item before the caller, and the end of the stream. */
export interface StreamObserver {
  /** Returns false to hide an item the caller did not ask for (e.g. an injected usage chunk). */
  onItem(item: unknown): boolean;
  /** Called once: `error` when the stream failed, `aborted` when the consumer stopped early. */
  onEnd(error: unknown, aborted: boolean): void;
}

interface StreamLike {
  iterator?: () => AsyncIterator<unknown>;
}

/** True for the SDKs' `Stream` objects, whose `iterator` feeds every consumer. */
export function isSdkStream(value: unknown): value is StreamLike {
  return typeof (value as StreamLike | null)?.iterator === 'function';
}

/**
 * Observes an SDK `Stream` in place. Its `iterator` property is the single source behind
 * `for await`, `.tee()` and `.toReadableStream()`, so wrapping it keeps all of them (and helpers
 * like `finalMessage()` built on them) working exactly as before, on the same object.
 */
export function observeStream(stream: StreamLike, observer: StreamObserver): void {
  const original = stream.iterator!;
  stream.iterator = function iterator(this: unknown): AsyncIterator<unknown> {
    return wrapIterator(original.call(this), observer);
  };
}

function wrapIterator(
  source: AsyncIterator<unknown>,
  observer: StreamObserver,
): AsyncIterator<unknown> {
  let finished = false;
  const finish = (error: unknown, aborted: boolean): void => {
    if (finished) return;
    finished = true;
    try {
      observer.onEnd(error, aborted);
    } catch (err) {
      reportInternalError('stream-end', err);
    }
  };
  const onResult = (
    r: IteratorResult<unknown>,
  ): IteratorResult<unknown> | Promise<IteratorResult<unknown>> => {
    if (r.done) {
      finish(undefined, false);
      return r;
    }
    let keep = true;
    try {
      keep = observer.onItem(r.value);
    } catch (err) {
      reportInternalError('stream-item', err);
    }
    // Promise chaining rather than async/await: one fewer microtask hop per chunk.
    return keep ? r : source.next().then(onResult, onError);
  };
  const onError = (err: unknown): never => {
    finish(err, false);
    throw err;
  };
  const wrapped: AsyncIterator<unknown> & AsyncIterable<unknown> = {
    next: () => source.next().then(onResult, onError),
    return: (value?: unknown) => {
      finish(undefined, true);
      return source.return ? source.return(value) : Promise.resolve({ done: true, value });
    },
    throw: (err?: unknown) => {
      finish(err, false);
      // The caller's value is passed through as it is, Error or not.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return source.throw ? source.throw(err) : Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return wrapped;
    },
  };
  return wrapped;
}
