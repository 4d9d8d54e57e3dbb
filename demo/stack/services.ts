import { rmSync } from 'node:fs';

/** A started part of the demo: where it listens, its process, how to stop it. */
export interface Part {
  name: string;
  url: string;
  pid?: number;
  stop: () => Promise<void>;
}

/**
 * What the demo started, stopped in the reverse order of their start, then its temporary folders
 * removed. `stopAll` may be called more than once (Ctrl-C during the final summary).
 */
export class Services {
  private readonly parts: Part[] = [];
  private readonly dirs: string[] = [];
  private stopping: Promise<void> | undefined;

  add(part: Part): Part {
    this.parts.push(part);
    return part;
  }

  removeOnStop(dir: string): void {
    this.dirs.push(dir);
  }

  list(): readonly Part[] {
    return this.parts;
  }

  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const part of [...this.parts].reverse()) {
        try {
          await part.stop();
        } catch (err) {
          console.error(
            `stopping ${part.name}: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
      for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}
