/**
 * A tiny runtime schema: each IPC payload is described once, its TypeScript type is inferred from the
 * description, and main validates every incoming message against it.
 */
export interface Schema<T> {
  readonly describe: string;
  /** Returns null when valid, otherwise the path and what was wrong. */
  check(value: unknown, path?: string): string | null;
  /** Phantom field carrying the inferred type. */
  readonly _type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function schema<T>(describe: string, check: (v: unknown, path: string) => string | null): Schema<T> {
  return { describe, check: (v, path = 'payload') => check(v, path) };
}

export const s = {
  string: (opts: { maxLength?: number; nonEmpty?: boolean } = {}): Schema<string> =>
    schema('string', (v, p) => {
      if (typeof v !== 'string') return `${p} must be a string`;
      if (opts.nonEmpty && v.length === 0) return `${p} must not be empty`;
      if (opts.maxLength !== undefined && v.length > opts.maxLength) return `${p} is longer than ${opts.maxLength}`;
      return null;
    }),
  number: (opts: { min?: number; max?: number; integer?: boolean; positive?: boolean } = {}): Schema<number> =>
    schema('number', (v, p) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return `${p} must be a finite number`;
      if (opts.integer && !Number.isInteger(v)) return `${p} must be an integer`;
      if (opts.positive && v <= 0) return `${p} must be greater than 0`;
      if (opts.min !== undefined && v < opts.min) return `${p} must be at least ${opts.min}`;
      if (opts.max !== undefined && v > opts.max) return `${p} must be at most ${opts.max}`;
      return null;
    }),
  boolean: (): Schema<boolean> =>
    schema('boolean', (v, p) => (typeof v === 'boolean' ? null : `${p} must be a boolean`)),
  bytes: (maxBytes: number): Schema<Uint8Array> =>
    schema('bytes', (v, p) => {
      if (!(v instanceof Uint8Array)) return `${p} must be binary data`;
      if (v.byteLength > maxBytes) return `${p} is larger than ${maxBytes} bytes`;
      return null;
    }),
  literal: <const L extends string | number | boolean>(...values: L[]): Schema<L> =>
    schema(values.join('|'), (v, p) => (values.includes(v as L) ? null : `${p} must be one of ${values.join(', ')}`)),
  array: <T>(item: Schema<T>, maxItems = 100_000): Schema<T[]> =>
    schema(`${item.describe}[]`, (v, p) => {
      if (!Array.isArray(v)) return `${p} must be an array`;
      if (v.length > maxItems) return `${p} has more than ${maxItems} items`;
      for (let i = 0; i < v.length; i++) {
        const err = item.check(v[i], `${p}[${i}]`);
        if (err) return err;
      }
      return null;
    }),
  optional: <T>(inner: Schema<T>): Schema<T | undefined> =>
    schema(`${inner.describe}?`, (v, p) => (v === undefined ? null : inner.check(v, p))),
  nullable: <T>(inner: Schema<T>): Schema<T | null> =>
    schema(`${inner.describe}|null`, (v, p) => (v === null ? null : inner.check(v, p))),
  record: <T>(value: Schema<T>): Schema<Record<string, T>> =>
    schema(`record<${value.describe}>`, (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p} must be an object`;
      for (const [k, item] of Object.entries(v)) {
        const err = value.check(item, `${p}.${k}`);
        if (err) return err;
      }
      return null;
    }),
  object: <Shape extends Record<string, Schema<unknown>>>(shape: Shape): Schema<ObjectOf<Shape>> =>
    schema('object', (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${p} must be an object`;
      const obj = v as Record<string, unknown>;
      // Own properties only: `key in shape` would let "constructor", "__proto__" and "toString" through.
      for (const key of Object.keys(obj)) {
        if (!Object.prototype.hasOwnProperty.call(shape, key)) return `${p}.${key} is not expected`;
      }
      for (const [key, field] of Object.entries(shape)) {
        const err = field.check(Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined, `${p}.${key}`);
        if (err) return err;
      }
      return null;
    }),
};

type OptionalKeys<Shape> = { [K in keyof Shape]: undefined extends Infer<Shape[K]> ? K : never }[keyof Shape];
type RequiredKeys<Shape> = Exclude<keyof Shape, OptionalKeys<Shape>>;
export type ObjectOf<Shape extends Record<string, Schema<unknown>>> = {
  [K in RequiredKeys<Shape>]: Infer<Shape[K]>;
} & { [K in OptionalKeys<Shape>]?: Infer<Shape[K]> };
