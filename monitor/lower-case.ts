// Lowercasing without allocating when there is nothing to lowercase: normalisation runs on every
// value of every entry, and most values are lowercase already.

/**
 * hasUpperCase reports whether lowercasing s[0, end) could change it: an ASCII capital, or any
 * non-ASCII character (left to toLowerCase to decide).
 */
export function hasUpperCase(s: string, end = s.length): boolean {
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c > 0x7f) return true;
  }
  return false;
}

/** lowerCase is String.prototype.toLowerCase that returns s itself when it has nothing to lowercase. */
export function lowerCase(s: string): string {
  return hasUpperCase(s) ? s.toLowerCase() : s;
}
