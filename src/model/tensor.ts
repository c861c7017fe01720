/**
 * In-memory tensor forms shared by the loader and every backend.
 *
 * Canonical ternary layout (what the loader hands to backends, each backend repacks from it):
 * row-major, each row `ceil(cols/4)` bytes; byte `i` of row `r` holds elements `4i..4i+3`,
 * element `4i+k` in bits `2k..2k+1` (LSB first), code = T + 1 (0 → −1, 1 → 0, 2 → +1; 3 never).
 * Padding elements past `cols` are code 1 (zero).
 */
export interface TernaryMatrix {
  readonly kind: 'ternary';
  /** Output features (GGUF ne[1]). */
  readonly rows: number;
  /** Input features (GGUF ne[0]). */
  readonly cols: number;
  /** rows * ceil(cols/4) bytes, canonical layout above. */
  readonly packed: Uint8Array;
  /**
   * Per-tensor scale when `blockScales` is null: w = T * scale.
   * Otherwise w[r, c] = T * blockScales[r * blocksPerRow + floor(c / scaleBlock)].
   */
  readonly scale: number;
  readonly blockScales: Float32Array | null;
  /** Elements per block scale along a row (256 for TQ types); equals `cols` when per-tensor. */
  readonly scaleBlock: number;
  /** GGUF type it came from (informational). */
  readonly sourceType: string;
}

/** A float matrix kept in its storage type and decoded per row on demand. */
export type FloatStorage = 'f32' | 'f16' | 'bf16' | 'q8_0';

export interface FloatMatrix {
  readonly kind: 'float';
  readonly rows: number;
  readonly cols: number;
  readonly storage: FloatStorage;
  /** Raw bytes, row-major, rows * rowBytes(storage, cols). */
  readonly data: Uint8Array;
}

export type FfnActivation = 'relu2' | 'silu';

export type Architecture = 'bitnet-b1.58' | 'bitnet-25' | 'bitnet' | 'llama';

export interface ModelConfig {
  readonly architecture: Architecture;
  readonly name: string;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nFf: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
  /** Rotated dimensions per head (== headDim for BitNet). */
  readonly ropeDim: number;
  readonly ropeTheta: number;
  /** 'neox' = half-split rotation (BitNet); 'normal' = adjacent pairs (llama after permutation). */
  readonly ropeType: 'neox' | 'normal';
  readonly rmsEps: number;
  readonly activation: FfnActivation;
  /** SubLN norms before o_proj and down_proj (BitNet) or not (plain llama). */
  readonly subNorms: boolean;
  readonly tiedEmbeddings: boolean;
}

export interface LayerWeights {
  readonly attnNorm: Float32Array;
  readonly wq: TernaryMatrix;
  readonly wk: TernaryMatrix;
  readonly wv: TernaryMatrix;
  readonly attnSubNorm: Float32Array | null;
  readonly wo: TernaryMatrix;
  readonly ffnNorm: Float32Array;
  readonly wGate: TernaryMatrix;
  readonly wUp: TernaryMatrix;
  readonly ffnSubNorm: Float32Array | null;
  readonly wDown: TernaryMatrix;
  /** Optional `.scale` tensors multiplied onto each projection's output (1 when absent). */
  readonly outScales: { q: number; k: number; v: number; o: number; gate: number; up: number; down: number };
}

export interface ModelWeights {
  readonly config: ModelConfig;
  readonly tokenEmbd: FloatMatrix;
  /** The output (lm_head) matrix; the same object as `tokenEmbd` when tied. */
  readonly output: FloatMatrix;
  readonly outputNorm: Float32Array;
  readonly layers: readonly LayerWeights[];
}
