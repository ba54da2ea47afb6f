/**
 * A small strict well-formedness check for the SVG the workshop writes (no DTDs, no CDATA, no processing instructions
 * other than the XML declaration): balanced tags, quoted attributes without duplicates, only the five predefined
 * entities or character references, no stray `<` or `&` in text. Returns the first problem, or null.
 */
const NAME = /^[A-Za-z_][\w.:-]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9A-Fa-f]+);/;

export function xmlProblem(doc: string): string | null {
  let i = doc.startsWith('<?xml') ? doc.indexOf('?>') + 2 : 0;
  const open: string[] = [];
  let roots = 0;
  while (i < doc.length) {
    const lt = doc.indexOf('<', i);
    const textEnd = lt < 0 ? doc.length : lt;
    const bad = checkText(doc.slice(i, textEnd));
    if (bad !== null) return `${bad} at ${i}`;
    if (open.length === 0 && doc.slice(i, textEnd).trim() !== '') return `text outside the root element at ${i}`;
    if (lt < 0) break;
    const gt = doc.indexOf('>', lt);
    if (gt < 0) return `unterminated tag at ${lt}`;
    const tag = doc.slice(lt + 1, gt);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (open.pop() !== name) return `unexpected </${name}> at ${lt}`;
    } else {
      const selfClosing = tag.endsWith('/');
      const problem = checkTag(selfClosing ? tag.slice(0, -1) : tag);
      if (typeof problem === 'string' && problem.startsWith('!')) return `${problem.slice(1)} at ${lt}`;
      if (open.length === 0 && ++roots > 1) return `a second root element at ${lt}`;
      if (!selfClosing) open.push(problem);
    }
    i = gt + 1;
  }
  return open.length === 0 && roots === 1 ? null : `unclosed <${open.join('>, <')}>`;
}

function checkText(text: string): string | null {
  for (let j = text.indexOf('&'); j >= 0; j = text.indexOf('&', j + 1)) {
    if (!ENTITY.test(text.slice(j))) return 'a bare &';
  }
  return null;
}

/** The tag's name, or `!problem`. */
function checkTag(tag: string): string {
  const name = NAME.exec(tag)?.[0];
  if (name === undefined) return '!a tag without a name';
  let rest = tag.slice(name.length);
  const seen = new Set<string>();
  for (;;) {
    rest = rest.replace(/^\s+/, '');
    if (rest === '') return name;
    const m = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(rest);
    if (m === null) return `!a malformed attribute in <${name}>`;
    const attr = m[1] ?? '';
    if (seen.has(attr)) return `!a duplicate attribute ${attr} in <${name}>`;
    seen.add(attr);
    const bad = checkText(m[3] ?? m[4] ?? '');
    if (bad !== null) return `!${bad} in attribute ${attr}`;
    rest = rest.slice(m[0].length);
  }
}
