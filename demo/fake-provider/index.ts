/** The fake OpenAI/Anthropic provider for tests, the demo and benchmarks. */
export { startFakeProvider } from './server';
export type { FakeProvider, FakeProviderOptions } from './server';
export type {
  AnthropicDeltaUsage,
  DropReply,
  ErrorReply,
  FakeHandler,
  FakeReply,
  ReplayReply,
  ReplyCommon,
  SyntheticReply,
} from './reply';
export type { FakeProviderName, FakeRequest, FakeRoute } from './request';
export type {
  AnthropicUsage,
  ChatUsage,
  EmbeddingsUsage,
  ResponsesUsage,
  UsagePatch,
} from './usage';
export {
  RECORDINGS_DIR_ENV,
  listRecordings,
  loadRecording,
  resolveRecordingsDir,
  splitSseEvents,
} from './recordings';
export type { RecordedRequest, Recording } from './recordings';
