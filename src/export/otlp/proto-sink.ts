/**
 * Protocol Buffers wire encoding, by hand, for the few field types OTLP uses.
 *
 * A length-delimited field carries its byte length before its content, and
 * that length's own size (a varint) depends on it. Rather than encode nested
 * messages into scratch buffers and copy them upwards (a 1 MB attribute would
 * be copied once per nesting level), an encoder runs twice over the same
 * calls: `ProtoSizer` adds up sizes and records every string's and every
 * message's length in visiting order; `ProtoWriter` then fills one buffer of
 * exactly the right size, reading those lengths back in the same order.
 */

/** What a message encoder writes to; both passes receive the same calls. */
export interface ProtoSink {
  /** A varint of a non-negative integer below 2^53 (uint32, uint64, enum, bool). */
  uint(field: number, value: number): void;
  /** A signed 64-bit integer as a varint (negative values take ten bytes, as in two's complement). */
  int64(field: number, value: number): void;
  fixed32(field: number, value: number): void;
  /** An unsigned 64-bit value given as its low and high 32-bit halves. */
  fixed64(field: number, low: number, high: number): void;
  /** A signed 64-bit integer in eight bytes (two's complement), clamped to the int64 range. */
  sfixed64(field: number, value: number): void;
  double(field: number, value: number): void;
  /** A packed repeated fixed64 of non-negative integers below 2^53; nothing at all when empty. */
  packedFixed64(field: number, values: readonly number[]): void;
  /** A packed repeated double; nothing at all when empty. */
  packedDouble(field: number, values: readonly number[]): void;
  string(field: number, value: string): void;
  bytes(field: number, value: Uint8Array): void;
  /** Bytes given as a hex string (trace and span ids); a character that is not hex reads as 0. */
  hexBytes(field: number, hex: string): void;
  /** A nested message whose fields `body` writes to this same sink. */
  message(field: number, body: () => void): void;
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
const TWO_POW_32 = 0x1_0000_0000;

function tagOf(field: number, wireType: number): number {
  return field * 8 + wireType;
}

/** Bytes of the varint of a non-negative integer below 2^53. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function int64Size(value: number): number {
  return value < 0 ? 10 : varintSize(value);
}

/** Counts and enums from spans are not trusted to be non-negative integers: clamp so the varint stays valid. */
function asUint(value: number): number {
  return value > 0 ? Math.floor(Math.min(value, Number.MAX_SAFE_INTEGER)) : 0;
}

function tagSize(field: number): number {
  return varintSize(tagOf(field, 0));
}

/** First pass: total size, and the lengths the second pass needs, in visiting order. */
export class ProtoSizer implements ProtoSink {
  total = 0;
  readonly lengths: number[] = [];

  uint(field: number, value: number): void {
    this.total += tagSize(field) + varintSize(asUint(value));
  }

  int64(field: number, value: number): void {
    this.total += tagSize(field) + int64Size(value);
  }

  fixed32(field: number): void {
    this.total += tagSize(field) + 4;
  }

  fixed64(field: number): void {
    this.total += tagSize(field) + 8;
  }

  sfixed64(field: number): void {
    this.total += tagSize(field) + 8;
  }

  double(field: number): void {
    this.total += tagSize(field) + 8;
  }

  packedFixed64(field: number, values: readonly number[]): void {
    if (values.length > 0) this.addDelimited(field, 8 * values.length);
  }

  packedDouble(field: number, values: readonly number[]): void {
    if (values.length > 0) this.addDelimited(field, 8 * values.length);
  }

  string(field: number, value: string): void {
    const length = Buffer.byteLength(value, 'utf8');
    this.lengths.push(length);
    this.addDelimited(field, length);
  }

  bytes(field: number, value: Uint8Array): void {
    this.addDelimited(field, value.byteLength);
  }

  hexBytes(field: number, hex: string): void {
    this.addDelimited(field, hex.length >>> 1);
  }

  message(field: number, body: () => void): void {
    const slot = this.lengths.length;
    this.lengths.push(0);
    const before = this.total;
    body();
    const length = this.total - before;
    this.lengths[slot] = length;
    this.total += tagSize(field) + varintSize(length);
  }

  private addDelimited(field: number, length: number): void {
    this.total += tagSize(field) + varintSize(length) + length;
  }
}

/** Second pass: writes into a buffer sized by the first pass. */
export class ProtoWriter implements ProtoSink {
  private readonly buffer: Buffer;
  private pos = 0;
  private next = 0;

  constructor(private readonly sized: ProtoSizer) {
    this.buffer = Buffer.allocUnsafe(sized.total);
  }

  uint(field: number, value: number): void {
    this.varint(tagOf(field, VARINT));
    this.varint(asUint(value));
  }

  int64(field: number, value: number): void {
    this.varint(tagOf(field, VARINT));
    if (value >= 0) {
      this.varint(value);
      return;
    }
    const [low, high] = int64Halves(value);
    this.varint64(low, high);
  }

  fixed32(field: number, value: number): void {
    this.varint(tagOf(field, FIXED32));
    this.buffer.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  fixed64(field: number, low: number, high: number): void {
    this.varint(tagOf(field, FIXED64));
    this.uint32(low);
    this.uint32(high);
  }

  sfixed64(field: number, value: number): void {
    const [low, high] = int64Halves(value);
    this.fixed64(field, low, high);
  }

  double(field: number, value: number): void {
    this.varint(tagOf(field, FIXED64));
    this.buffer.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  packedFixed64(field: number, values: readonly number[]): void {
    if (!this.startPacked8(field, values)) return;
    for (const value of values) {
      const whole = asUint(value);
      const high = Math.floor(whole / TWO_POW_32);
      this.uint32(whole - high * TWO_POW_32);
      this.uint32(high);
    }
  }

  packedDouble(field: number, values: readonly number[]): void {
    if (!this.startPacked8(field, values)) return;
    for (const value of values) {
      this.buffer.writeDoubleLE(value, this.pos);
      this.pos += 8;
    }
  }

  string(field: number, value: string): void {
    const length = this.takeLength();
    this.varint(tagOf(field, LENGTH_DELIMITED));
    this.varint(length);
    if (length > 0) this.pos += this.buffer.write(value, this.pos, length, 'utf8');
  }

  bytes(field: number, value: Uint8Array): void {
    this.varint(tagOf(field, LENGTH_DELIMITED));
    this.varint(value.byteLength);
    this.buffer.set(value, this.pos);
    this.pos += value.byteLength;
  }

  hexBytes(field: number, hex: string): void {
    const length = hex.length >>> 1;
    this.varint(tagOf(field, LENGTH_DELIMITED));
    this.varint(length);
    for (let i = 0; i < length; i++) {
      this.buffer[this.pos++] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
    }
  }

  message(field: number, body: () => void): void {
    const length = this.takeLength();
    this.varint(tagOf(field, LENGTH_DELIMITED));
    this.varint(length);
    const end = this.pos + length;
    body();
    if (this.pos !== end) throw new Error(`protobuf encoder: message of field ${field} wrote ${this.pos - end + length} bytes, sized ${length}`);
  }

  /** The encoded bytes; throws when the two passes disagreed (a bug, never bad input). */
  finish(): Buffer {
    if (this.pos !== this.buffer.length || this.next !== this.sized.lengths.length) {
      throw new Error(`protobuf encoder: wrote ${this.pos} of ${this.buffer.length} bytes`);
    }
    return this.buffer;
  }

  /** The tag and length of a packed repeated field of eight-byte values; false (nothing written) when it is empty. */
  private startPacked8(field: number, values: readonly number[]): boolean {
    if (values.length === 0) return false;
    this.varint(tagOf(field, LENGTH_DELIMITED));
    this.varint(8 * values.length);
    return true;
  }

  /** Four bytes, little-endian (by hand: Buffer's checked writers cost more than the write here). */
  private uint32(value: number): void {
    const buffer = this.buffer;
    buffer[this.pos] = value & 0xff;
    buffer[this.pos + 1] = (value >>> 8) & 0xff;
    buffer[this.pos + 2] = (value >>> 16) & 0xff;
    buffer[this.pos + 3] = (value >>> 24) & 0xff;
    this.pos += 4;
  }

  private takeLength(): number {
    const length = this.sized.lengths[this.next++];
    if (length === undefined) throw new Error('protobuf encoder: more fields written than sized');
    return length;
  }

  private varint(value: number): void {
    if (value < TWO_POW_32) {
      while (value > 127) {
        this.buffer[this.pos++] = (value & 127) | 128;
        value >>>= 7;
      }
      this.buffer[this.pos++] = value;
      return;
    }
    const high = Math.floor(value / TWO_POW_32);
    this.varint64(value - high * TWO_POW_32, high);
  }

  private varint64(low: number, high: number): void {
    while (high !== 0 || low > 127) {
      this.buffer[this.pos++] = (low & 127) | 128;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.buffer[this.pos++] = low;
  }
}

/** int64 bounds as exact doubles: [-2^63, 2^63). */
export const MIN_INT64 = -(2 ** 63);
export const INT64_END = 2 ** 63;

/**
 * The low and high 32-bit halves of an integer as a two's complement int64.
 * Out-of-range values clamp to the nearest int64; a fraction is dropped.
 */
export function int64Halves(value: number): [low: number, high: number] {
  if (Number.isNaN(value)) return [0, 0];
  if (value >= INT64_END) return [0xffff_ffff, 0x7fff_ffff];
  if (value <= MIN_INT64) return [0, 0x8000_0000];
  const whole = Math.trunc(value);
  const magnitude = Math.abs(whole);
  const high = Math.floor(magnitude / TWO_POW_32);
  const low = magnitude - high * TWO_POW_32;
  if (whole >= 0) return [low, high];
  // Two's complement of |value| over 64 bits.
  return low === 0 ? [0, (~high + 1) >>> 0] : [(TWO_POW_32 - low) >>> 0, ~high >>> 0];
}

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  const lower = code | 32;
  if (lower >= 97 && lower <= 102) return lower - 87; // a-f
  return 0;
}

/** Encodes one top-level message: `write` is called twice, once per pass. */
export function encodeProto(write: (sink: ProtoSink) => void): Buffer {
  const sizer = new ProtoSizer();
  write(sizer);
  const writer = new ProtoWriter(sizer);
  write(writer);
  return writer.finish();
}

/** The encoded size of one top-level message, without writing it. */
export function protoSize(write: (sink: ProtoSink) => void): number {
  const sizer = new ProtoSizer();
  write(sizer);
  return sizer.total;
}
