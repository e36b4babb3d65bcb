/** Short descriptions of values for error messages: never `[object Object]`, never a whole payload. */

/** `null`, `array`, the class name of an object, or the `typeof`. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object';
  return typeof value;
}

/** A primitive as written in code (strings quoted, cut at 60 characters), anything else by its type. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    default: {
      if (value === null) return 'null';
      const type = describeType(value);
      return `${/^[aeiouAEIOU]/.test(type) ? 'an' : 'a'} ${type}`;
    }
  }
}
