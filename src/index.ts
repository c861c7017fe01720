/**
 * bitnet-web: run BitNet b1.58 ternary LLMs in browsers (WebGPU / wasm SIMD) and Node.
 *
 * ```ts
 * import { createEngine } from 'bitnet-web';
 * const engine = await createEngine({ onProgress: (p) => console.log(p.phase, p.fraction) });
 * for await (const chunk of engine.generate('In the beginning', { maxTokens: 32 })) {
 *   if (!chunk.done) process.stdout.write(chunk.text);
 * }
 * ```
 */
export { createEngine, Engine, type EngineMetrics, type EngineResultCache } from './api/engine.js';
export type { EngineOptions, GenerateOptions, ResultCacheOptions, ResultCacheMode, RequestPriority } from './api/options.js';
export type { RecentRequest } from './api/recent-requests.js';
export { DEFAULT_SEMANTIC_THRESHOLD, type ResultCacheStats, type ResultCacheFilter, type ResultEntryInfo } from './cache/result-cache.js';
export type { ResultInput } from './cache/result-key.js';
export { functionEmbedder, normalizeInPlace, type Embedder } from './embed/embedder.js';
export { createOnnxEmbedder, type OnnxEmbedder, type OnnxEmbedderOptions } from './embed/onnx-embedder.js';
export { byteTokenizer, type ByteTokenizerOptions } from './embed/byte-tokenizer.js';
export { wordPieceTokenizer, loadWordPieceTokenizer, type WordPieceOptions } from './embed/wordpiece-tokenizer.js';
export type { EmbeddingTokenizer, EncodedText } from './embed/text-tokenizer.js';
export type { OrtModule } from './embed/ort-runtime.js';
export type { GenerationStream, GenerationChunk, GenerationEnd, GenerationEvent, GenerationStats } from './api/generation.js';
export type {
  ChatCacheInfo, ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, ChatCompletionMessageParam, ChatCompletionStream, ChatFinishReason, ChatRole, CompletionUsage,
} from './api/chat.js';
export type { LoadProgress, LoadPhase, EngineWarning, EngineWarningCode } from './api/events.js';
export type { BackendSelection, CandidateReport, CandidateStatus, BackendHandoff } from './worker/select-backend.js';
export type { ModelInfo } from './worker/protocol.js';
export type { WireError } from './worker/rpc.js';
export { BitNetError, isBitNetError, isAbortError, type BitNetErrorCode } from './errors.js';
export { probeCapabilities, COOP_COEP_FIX, type CapabilityReport, type ProbeOptions, type WebGPUReport, type WebGPUAdapterReport, type WasmInstructionReport, type ThreadsReport, type MemoryReport, type CoresReport, type RuntimeReport } from './probe/index.js';
export { modelCache, type ModelCache, type CachedModelInfo, type CacheUsage } from './cache/manage.js';
export type { CacheOptions, ModelInput } from './cache/open-model.js';
export type { StorageReport } from './cache/storage.js';
export type { BackendName } from './backends/backend.js';
export type { BackendChoice } from './backends/registry.js';
