/**
 * A minimal ONNX protobuf writer for tests: enough to build tiny models (initializers, nodes with
 * int/ints attributes, typed inputs/outputs with symbolic dims) without Python or downloads.
 */

function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
const fInt = (field: number, v: number | bigint) => [...key(field, 0), ...varint(v)];
const fBytes = (field: number, b: Uint8Array | number[]) => [...key(field, 2), ...varint(b.length), ...b];
const fStr = (field: number, s: string) => fBytes(field, [...Buffer.from(s, 'utf8')]);

/** Element types. */
export const FLOAT = 1;
export const INT64 = 7;

/** A tensor initializer. */
export function tensor(name: string, dims: number[], type: number, data: Float32Array | BigInt64Array): number[] {
  return [...dims.flatMap((d) => fInt(1, d)), ...fInt(2, type), ...fStr(8, name), ...fBytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))];
}

/** An attribute: ints (type 7) or int (type 2). */
export function attrInts(name: string, values: number[]): number[] {
  return [...fStr(1, name), ...values.flatMap((v) => fInt(8, v)), ...fInt(20, 7)];
}
export function attrInt(name: string, value: number): number[] {
  return [...fStr(1, name), ...fInt(3, value), ...fInt(20, 2)];
}

/** A graph node. */
export function node(op: string, inputs: string[], outputs: string[], attrs: number[][] = []): number[] {
  return [...inputs.flatMap((i) => fStr(1, i)), ...outputs.flatMap((o) => fStr(2, o)), ...fStr(3, `${op}_${outputs[0]}`), ...fStr(4, op), ...attrs.flatMap((a) => fBytes(5, a))];
}

/** A typed graph input/output; string dims are symbolic. */
export function valueInfo(name: string, type: number, dims: (number | string)[]): number[] {
  const shape = dims.flatMap((d) => fBytes(1, typeof d === 'number' ? fInt(1, d) : fStr(2, d)));
  const tensorType = [...fInt(1, type), ...fBytes(2, shape)];
  return [...fStr(1, name), ...fBytes(2, fBytes(1, tensorType))];
}

/** Serialise a model (opset 17). */
export function model(g: { nodes: number[][]; initializers: number[][]; inputs: number[][]; outputs: number[][] }): Uint8Array {
  const graph = [
    ...g.nodes.flatMap((n) => fBytes(1, n)),
    ...fStr(2, 'g'),
    ...g.initializers.flatMap((t) => fBytes(5, t)),
    ...g.inputs.flatMap((v) => fBytes(11, v)),
    ...g.outputs.flatMap((v) => fBytes(12, v)),
  ];
  const opset = [...fStr(1, ''), ...fInt(2, 17)];
  return new Uint8Array([...fInt(1, 8), ...fStr(2, 'semrec-test'), ...fBytes(7, graph), ...fBytes(8, opset)]);
}
