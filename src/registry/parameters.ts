/**
 * A method's parameters read from its source: how many, their names, and the
 * type of a literal default. `fn.length` stops at the first default, and
 * decorator metadata depends on the compiler (esbuild emits none, and no
 * compiler emits a type for an unannotated `by = 1`), so the source is the
 * one account every build keeps.
 */
import type { DeclaredParameter } from './class-meta.js';

const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;
const SIMPLE = /^([\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*)\s*(?:=\s*([\s\S]+))?$/u;
const DECIMAL = /^[-+]?\s*(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:e[-+]?\d+)?$/i;
const RADIX = /^[-+]?\s*0(?:x[\da-f_]+|o[0-7_]+|b[01_]+)$/i;
const QUOTED = /^(?:'(?:[^'\\]|\\[\s\S])*'|"(?:[^"\\]|\\[\s\S])*"|`(?:[^`\\$]|\\[\s\S]|\$(?!\{))*`)$/;

/** The declared parameters of a function, defaults, patterns and a rest parameter included. */
export function declaredParameters(fn: (...args: never[]) => unknown): DeclaredParameter[] {
  return parametersFromSource(Function.prototype.toString.call(fn)) ?? Array.from({ length: fn.length }, () => ({ name: undefined, literal: undefined }));
}

/** The parameters of a function's source text, or `undefined` when its parameter list cannot be found. */
export function parametersFromSource(source: string): DeclaredParameter[] | undefined {
  return parameterSources(source)?.map(describeParameter);
}

/** The source text of each parameter (comments left out), or `undefined` when the list cannot be found. */
function parameterSources(source: string): string[] | undefined {
  const open = source.indexOf('(');
  if (open === -1) return undefined;
  const params: string[] = [];
  let current = '';
  let depth = 0;
  for (let i = open + 1; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '"' || ch === "'" || ch === '`') {
      // A string literal in a default value, copied whole (a default's type is read from it).
      const start = i;
      for (i++; i < source.length && source[i] !== ch; i++) if (source[i] === '\\') i++;
      current += source.slice(start, i + 1);
      continue;
    }
    if (ch === '/' && source[i + 1] === '*') {
      i = source.indexOf('*/', i + 2) + 1;
      if (i === 0) return undefined;
      current += ' ';
      continue;
    }
    if (ch === '/' && source[i + 1] === '/') {
      i = source.indexOf('\n', i + 2);
      if (i === -1) return undefined;
      current += ' ';
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0) {
        params.push(current.trim());
        // `()` and a trailing comma leave an empty last entry.
        if (params[params.length - 1] === '') params.pop();
        return params;
      }
      depth--;
    } else if (ch === ',' && depth === 0) {
      params.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  return undefined;
}

function describeParameter(text: string): DeclaredParameter {
  if (text.startsWith('...')) {
    const name = text.slice(3).trim();
    return { name: IDENTIFIER.test(name) ? name : undefined, literal: undefined };
  }
  const simple = SIMPLE.exec(text);
  if (simple === null) return { name: undefined, literal: undefined };
  const initial = simple[2]?.trim();
  return { name: simple[1], literal: initial === undefined ? undefined : literalType(initial) };
}

function literalType(initial: string): DeclaredParameter['literal'] {
  if (DECIMAL.test(initial) || RADIX.test(initial)) return 'number';
  if (QUOTED.test(initial)) return 'string';
  if (initial === 'true' || initial === 'false') return 'boolean';
  return undefined;
}
