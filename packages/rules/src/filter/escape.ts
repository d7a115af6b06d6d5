// String escaping as libsinsp does it: quoted filter strings are unescaped when parsed, and values
// are escaped (and quoted when needed) when a condition is printed back as text.

/** Characters that end a bare (unquoted) string in a condition. */
export function isBareStringChar(c: string): boolean {
  return !(c === '(' || c === ')' || c === '"' || c === "'" || c === '=' || c === ',' || isBlank(c) || c === '\0');
}

export function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

/**
 * Renders a value so that parsing it back yields the same string: bare when every character may
 * stand in a bare string, otherwise double-quoted with `\` and `"` escaped.
 */
export function escapeString(s: string): string {
  let bare = s.length > 0;
  // Like libs, quote only what a reader could not take as one token: blanks, quotes, backslashes, NUL.
  for (let i = 0; i < s.length && bare; i++) {
    const c = s[i]!;
    if (isBlank(c) || c === '"' || c === "'" || c === '\\' || c === '\0') bare = false;
  }
  if (bare) return s;
  let out = '"';
  for (const c of s) {
    if (c === '\\' || c === '"') out += '\\' + c;
    else out += c;
  }
  return out + '"';
}

export class UnescapeError extends Error {
  override readonly name = 'UnescapeError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const HEX = /^[0-9a-fA-F]{2}$/;

/**
 * Reads a quoted string starting at `start` (which holds the quote character). As in libs, only a
 * backslash before the quote character keeps the string open; the content is then unescaped:
 * `\\` and `\<quote>` stand for themselves, `\xHH` for a byte, a backslash before the other quote
 * character is an error, and any other backslash is kept as written. Returns the value and the
 * offset just past the closing quote, or throws UnescapeError.
 */
export function readQuoted(text: string, start: number): { value: string; end: number } {
  const quote = text[start]!;
  const other = quote === '"' ? "'" : '"';
  let i = start + 1;
  for (;;) {
    if (i >= text.length) throw new UnescapeError('unterminated quoted string: add the closing quote', start);
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === quote) i += 2;
    else if (c === quote) break;
    else i++;
  }
  const end = i + 1;
  let out = '';
  for (let k = start + 1; k < i; k++) {
    const c = text[k]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = text[k + 1];
    if (n === quote || n === '\\') {
      out += n;
      k++;
    } else if (n === 'x') {
      const hex = text.slice(k + 2, k + 4);
      if (k + 4 > i || !HEX.test(hex)) throw new UnescapeError('invalid \\x escape: expected two hexadecimal digits', k);
      out += String.fromCharCode(parseInt(hex, 16));
      k += 3;
    } else if (n === other) {
      throw new UnescapeError(`invalid escape sequence '\\${n}' in a ${quote === '"' ? 'double' : 'single'}-quoted string: write the quote without a backslash`, k);
    } else {
      out += c;
    }
  }
  return { value: out, end };
}

/** Unescapes a whole quoted literal such as `"a\x41"` (quotes included). */
export function unescapeString(quoted: string): string {
  const q = quoted[0];
  if ((q !== '"' && q !== "'") || quoted.length < 2) throw new UnescapeError('expected a quoted string', 0);
  const { value, end } = readQuoted(quoted, 0);
  if (end !== quoted.length) throw new UnescapeError('unexpected text after the closing quote', end);
  return value;
}
