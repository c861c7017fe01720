/**
 * A cheap structural check that bytes are an ONNX `ModelProto`, done before onnxruntime is even
 * loaded, so that an HTML error page, a GGUF or a truncated download fails with `BAD_ONNX_MODEL`
 * (and a message saying what was wrong) instead of an opaque runtime error.
 *
 * ONNX files have no magic number: a model is a protobuf message. The check walks its top-level
 * fields: every tag must have a valid wire type, every length must stay inside the buffer, the walk
 * must end exactly at the end, the known fields must have their declared wire types, and the `graph`
 * field (7) must be present. It does not decode the graph (onnxruntime does that).
 */
import { BitNetError } from '../errors.js';

/** ModelProto field numbers → wire type (0 varint, 2 length-delimited). */
const KNOWN: ReadonlyMap<number, number> = new Map([
  [1, 0], // ir_version
  [2, 2], // producer_name
  [3, 2], // producer_version
  [4, 2], // domain
  [5, 0], // model_version
  [6, 2], // doc_string
  [7, 2], // graph
  [8, 2], // opset_import
  [14, 2], // metadata_props
  [20, 2], // training_info
  [25, 2], // functions
]);

function bad(reason: string, offset: number): BitNetError {
  return new BitNetError('BAD_ONNX_MODEL', `not an ONNX model: ${reason} at byte ${offset}`, { details: { reason, offset } });
}

/** Reads a varint at `pos`; returns [value, next position]. Values above 2^53 are reported as Infinity. */
function varint(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= bytes.length) throw bad('truncated varint', pos);
    const b = bytes[pos++]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return [Number.isSafeInteger(value) ? value : Infinity, pos];
  }
  throw bad('varint longer than 10 bytes', pos);
}

export interface OnnxModelSummary {
  readonly irVersion: number | null;
  readonly graphBytes: number;
}

/** @throws BitNetError BAD_ONNX_MODEL */
export function checkOnnxModel(bytes: Uint8Array): OnnxModelSummary {
  if (bytes.length === 0) throw bad('empty file', 0);
  let pos = 0;
  let irVersion: number | null = null;
  let graphBytes = -1;
  while (pos < bytes.length) {
    const start = pos;
    const [tag, afterTag] = varint(bytes, pos);
    pos = afterTag;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field < 1 || !Number.isFinite(field)) throw bad(`invalid field number ${field}`, start);
    const expected = KNOWN.get(field);
    if (expected !== undefined && expected !== wire) throw bad(`field ${field} has wire type ${wire}, expected ${expected}`, start);
    if (wire === 0) {
      const [v, next] = varint(bytes, pos);
      if (field === 1) irVersion = v;
      pos = next;
    } else if (wire === 2) {
      const [len, next] = varint(bytes, pos);
      if (next + len > bytes.length) throw bad(`field ${field} of ${len} bytes runs past the end of the file`, start);
      if (field === 7) graphBytes = len;
      pos = next + len;
    } else if (wire === 1 || wire === 5) {
      pos += wire === 1 ? 8 : 4;
      if (pos > bytes.length) throw bad(`field ${field} runs past the end of the file`, start);
    } else {
      throw bad(`unsupported wire type ${wire}`, start);
    }
  }
  if (graphBytes < 0) throw bad('no graph', bytes.length);
  return { irVersion, graphBytes };
}
