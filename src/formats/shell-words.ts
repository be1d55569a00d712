/**
 * Words as the shell splits them, without expanding anything: blanks separate words, quotes and
 * backslashes keep characters together ("a b", 'a b', a\ b). Used for flag strings such as
 * RESTIC_BACKUP_ARGS and for the command lines of units.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let index = 0; index < text.length; index++) {
    const c = text[index]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const close = text.indexOf("'", index + 1);
      const end = close < 0 ? text.length : close;
      word = (word ?? '') + text.slice(index + 1, end);
      index = end;
    } else if (c === '"') {
      word ??= '';
      for (index++; index < text.length && text[index] !== '"'; index++) {
        if (text[index] === '\\' && '"\\$`'.includes(text[index + 1] ?? '')) index++;
        word += text[index];
      }
    } else if (c === '\\' && index + 1 < text.length) {
      word = (word ?? '') + text[++index];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
