import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  isWrapped,
} from '@opentelemetry/instrumentation';
import { packageVersion } from '../src/package-info';
import { anthropicTargets } from './providers/anthropic';
import { instrumentMethod, type Planner } from './providers/call';
import { openAITargets } from './providers/openai';
import { initRuntime } from './runtime';
import type { LlmFinopsInstrumentationConfig } from './types';

type Targets = (moduleExports: unknown) => [object | undefined, Planner][];

const MODULES: Record<'openai' | '@anthropic-ai/sdk', { versions: string[]; targets: Targets }> = {
  openai: { versions: ['>=4.0.0 <7'], targets: openAITargets },
  '@anthropic-ai/sdk': { versions: ['>=0.20.0 <2'], targets: anthropicTargets },
};

export type InstrumentedModule = keyof typeof MODULES;

/**
 * Patches the `create` methods of the OpenAI and Anthropic SDKs' resource classes so that every
 * call is priced and attributed. Hooks `require` and (with the loader `register` installs)
 * `import` of both packages. Apps with their own OTel SDK may pass it in `instrumentations`.
 */
export class LlmFinopsInstrumentation extends InstrumentationBase<LlmFinopsInstrumentationConfig> {
  constructor(config: LlmFinopsInstrumentationConfig = {}) {
    super('llm-finops', packageVersion(), config);
    // Used from an app's own NodeSDK (no register): its options, over the environment's.
    initRuntime(config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return (Object.keys(MODULES) as InstrumentedModule[]).map(
      (name) =>
        new InstrumentationNodeModuleDefinition(
          name,
          MODULES[name].versions,
          (exports: unknown) => this.patchModule(name, exports),
          (exports: unknown) => this.unpatchModule(name, exports),
        ),
    );
  }

  /** Patches an already loaded SDK module (e.g. one installed under another name). */
  patchModule<T>(name: InstrumentedModule, moduleExports: T): T {
    for (const [proto, planner] of MODULES[name].targets(moduleExports)) {
      const target = proto as { create?: unknown } | undefined;
      if (!target || typeof target.create !== 'function' || isWrapped(target.create)) continue;
      this._wrap(target, 'create', (original) =>
        instrumentMethod(original as (this: unknown, ...args: unknown[]) => unknown, planner),
      );
    }
    return moduleExports;
  }

  unpatchModule(name: InstrumentedModule, moduleExports: unknown): void {
    for (const [proto] of MODULES[name].targets(moduleExports)) {
      const target = proto as { create?: unknown } | undefined;
      if (target && isWrapped(target.create)) this._unwrap(target, 'create');
    }
  }
}
