"""Minimal GGUF v3 writer/reader (FORMATS.md §1) plus I2_S packing (§2.5), numpy only.

Writer: KV records in the given order, tensor infos, zero padding to ALIGNMENT = 32, tensor blobs in
info order at aligned offsets, each zero-padded to a multiple of 32.
I2_S: flat [out, in] row-major element stream in 128-element blocks; element j of block k → byte
32k + j%32, bits (6 - 2·(j//32)) .. (7 - 2·(j//32)) (MSB first); code = T + 1; then f32 scale and
28 zero bytes (nbytes = n/4 + 32).
"""
import struct

import numpy as np

ALIGN = 32
T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 = range(13)
GGML_F32, GGML_F16, GGML_I2_S = 0, 1, 36
_SCALAR = {T_U8: "<B", T_I8: "<b", T_U16: "<H", T_I16: "<h", T_U32: "<I", T_I32: "<i", T_F32: "<f",
           T_BOOL: "<?", T_U64: "<Q", T_I64: "<q", T_F64: "<d"}


def _align(x):
    return x + (ALIGN - x % ALIGN) % ALIGN


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(vtype, v):
    if vtype == T_STR:
        return _str(v)
    if vtype == T_ARR:
        etype, items = v
        out = [struct.pack("<IQ", etype, len(items))]
        if etype == T_STR:
            out.extend(_str(s) for s in items)
        else:
            out.append(np.asarray(items, dtype=np.dtype(_SCALAR[etype])).tobytes())
        return b"".join(out)
    return struct.pack(_SCALAR[vtype], v)


def pack_i2s(t, scale):
    """t: int array {-1,0,1} (any shape, flattened row-major, size % 128 == 0) → n/4 + 32 bytes."""
    codes = (np.asarray(t, dtype=np.int16).reshape(-1) + 1).astype(np.uint8)
    if codes.size % 128 or codes.max(initial=0) > 2:
        raise ValueError("I2_S needs size % 128 == 0 and ternary values")
    c = codes.reshape(-1, 4, 32)
    packed = (c[:, 0] << 6) | (c[:, 1] << 4) | (c[:, 2] << 2) | c[:, 3]
    return packed.astype(np.uint8).tobytes() + struct.pack("<f", scale) + bytes(28)


def unpack_i2s(buf, n):
    """Inverse of pack_i2s: (int8 ternary values [n], f32 scale)."""
    b = np.frombuffer(buf, dtype=np.uint8, count=n // 4).reshape(-1, 32)
    c = np.stack([(b >> 6) & 3, (b >> 4) & 3, (b >> 2) & 3, b & 3], axis=1)  # [blocks, g, p]
    scale = struct.unpack_from("<f", buf, n // 4)[0]
    return c.reshape(-1).astype(np.int8) - 1, scale


def write_gguf(path, kvs, tensors):
    """kvs: [(key, vtype, value)]; tensors: [(name, ne list, ggml_type, raw bytes)]."""
    head = [struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(kvs))]
    for k, t, v in kvs:
        head.append(_str(k) + struct.pack("<I", t) + _value(t, v))
    off = 0
    for name, ne, gtype, data in tensors:
        head.append(_str(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
                    + struct.pack("<IQ", gtype, off))
        off += _align(len(data))
    h = b"".join(head)
    with open(path, "wb") as f:
        f.write(h + bytes(_align(len(h)) - len(h)))
        for _, _, _, data in tensors:
            f.write(data + bytes(_align(len(data)) - len(data)))


def nbytes(ne, gtype):
    n = int(np.prod(ne))
    return {GGML_F32: 4 * n, GGML_F16: 2 * n, GGML_I2_S: n // 4 + 32}[gtype]


class Reader:
    """Parses a GGUF v2/v3 file: .kv {key: value}, .tensors {name: (ne, type, bytes)}."""

    def __init__(self, path):
        buf = open(path, "rb").read()
        self.pos = 0
        self.buf = buf
        magic, version, n_t, n_kv = self._take("<IIQQ")
        if magic != 0x46554747 or version not in (2, 3):
            raise ValueError("not a GGUF v2/v3 file")
        self.kv = {}
        for _ in range(n_kv):
            key = self._s()
            (vt,) = self._take("<I")
            self.kv[key] = self._v(vt)
        infos = []
        for _ in range(n_t):
            name = self._s()
            (nd,) = self._take("<I")
            ne = list(self._take(f"<{nd}Q"))
            gt, off = self._take("<IQ")
            infos.append((name, ne, gt, off))
        align = int(self.kv.get("general.alignment", ALIGN))
        start = self.pos + (align - self.pos % align) % align
        self.tensors = {}
        for name, ne, gt, off in infos:
            a = start + off
            self.tensors[name] = (ne, gt, buf[a:a + nbytes(ne, gt)])

    def _take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def _s(self):
        (n,) = self._take("<Q")
        s = self.buf[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def _v(self, vt):
        if vt == T_STR:
            return self._s()
        if vt == T_ARR:
            et, n = self._take("<IQ")
            return [self._v(et) for _ in range(n)]
        return self._take(_SCALAR[vt])[0]

    def array(self, name):
        """Float tensors as float32 numpy arrays shaped [ne1, ne0]; I2_S → (int8 [ne1, ne0], scale)."""
        ne, gt, data = self.tensors[name]
        shape = tuple(reversed(ne))
        if gt == GGML_F32:
            return np.frombuffer(data, dtype="<f4").reshape(shape).copy()
        if gt == GGML_F16:
            return np.frombuffer(data, dtype="<f2").astype(np.float32).reshape(shape)
        if gt == GGML_I2_S:
            t, s = unpack_i2s(data, int(np.prod(ne)))
            return t.reshape(shape), s
        raise ValueError(f"unsupported ggml type {gt}")
