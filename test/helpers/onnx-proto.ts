/**
 * A minimal ONNX ModelProto writer for tests: single-node graphs with named, typed inputs and outputs,
 * enough to build models with the "wrong" interface (other input names or types) for the embedder's
 * error paths. Protobuf encoding by hand: tag = field << 3 | wire type; varints; length-delimited
 * strings and messages.
 */

const enc = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

const fieldVarint = (field: number, v: number): number[] => [...varint(field * 8), ...varint(v)];
const fieldBytes = (field: number, bytes: readonly number[] | Uint8Array): number[] => [...varint(field * 8 + 2), ...varint(bytes.length), ...bytes];
const fieldString = (field: number, s: string): number[] => fieldBytes(field, enc.encode(s));

/** ONNX TensorProto.DataType values. */
export const ONNX_TYPE = { float: 1, int32: 6, int64: 7 } as const;

export interface ValueSpec {
  readonly name: string;
  readonly type: keyof typeof ONNX_TYPE;
  /** Dimensions: a number is fixed, a string a symbolic name. */
  readonly shape: readonly (number | string)[];
}

function valueInfo(v: ValueSpec): number[] {
  const dims = v.shape.flatMap((d) => fieldBytes(1, typeof d === 'number' ? fieldVarint(1, d) : fieldString(2, d)));
  const tensorType = [...fieldVarint(1, ONNX_TYPE[v.type]), ...fieldBytes(2, dims)];
  return [...fieldString(1, v.name), ...fieldBytes(2, fieldBytes(1, tensorType))];
}

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** A model with one graph of `nodes` (opset 13, IR version 8). */
export function onnxModel(inputs: readonly ValueSpec[], outputs: readonly ValueSpec[], nodes: readonly NodeSpec[]): Uint8Array {
  const graph = [
    ...nodes.flatMap((n) => fieldBytes(1, [...n.inputs.flatMap((i) => fieldString(1, i)), ...n.outputs.flatMap((o) => fieldString(2, o)), ...fieldString(4, n.op)])),
    ...fieldString(2, 'test'),
    ...inputs.flatMap((v) => fieldBytes(11, valueInfo(v))),
    ...outputs.flatMap((v) => fieldBytes(12, valueInfo(v))),
  ];
  const opset = [...fieldString(1, ''), ...fieldVarint(2, 13)];
  return new Uint8Array([...fieldVarint(1, 8), ...fieldString(2, 'bitnet-web-test'), ...fieldBytes(7, graph), ...fieldBytes(8, opset)]);
}
