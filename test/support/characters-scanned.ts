/**
 * How many characters `fn` makes `String.prototype.indexOf` and regular expressions look at: a
 * count that does not depend on how fast or how busy the machine is, so a parser's linearity on
 * hostile input can be asserted without timing it. indexOf counts the characters from its start
 * to the match (or the end); a regular expression counts its whole input, the most it can read
 * without backtracking.
 */
export function charactersScanned(fn: () => void): number {
  const indexOf = String.prototype.indexOf;
  const exec = RegExp.prototype.exec;
  let scanned = 0;
  String.prototype.indexOf = function (this: string, search: string, position?: number): number {
    const start = Math.max(0, Math.min(Math.trunc(position ?? 0) || 0, this.length));
    const found = indexOf.call(this, search, position);
    scanned += (found === -1 ? this.length : found) - start;
    return found;
  };
  // `test`, `match`, `replace` and `split` with a regular expression all go through `exec` once it
  // is replaced (the spec's RegExpExec looks it up).
  RegExp.prototype.exec = function (this: RegExp, input: string): RegExpExecArray | null {
    scanned += String(input).length;
    return exec.call(this, input);
  };
  try {
    fn();
  } finally {
    String.prototype.indexOf = indexOf;
    RegExp.prototype.exec = exec;
  }
  return scanned;
}
