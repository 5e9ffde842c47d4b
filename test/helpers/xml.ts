// A strict little XML reader for checking generated SVG: elements, double-quoted attributes, escaped text.
// Throws on anything not well-formed (unclosed or mismatched tags, bad attributes, raw '<' or '&' in text).
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

export function parseXml(source: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack = [root];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('<', i);
    const text = source.slice(i, open < 0 ? source.length : open);
    if (/[<>]/.test(text) || /&/.test(text.replace(ENTITY, ''))) throw new Error(`bad text at ${i}: ${text.slice(0, 40)}`);
    stack[stack.length - 1].text += text.replace(ENTITY, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e] ?? '?');
    if (open < 0) break;
    const close = source.indexOf('>', open);
    if (close < 0) throw new Error(`unterminated tag at ${open}`);
    const tag = source.slice(open + 1, close);
    i = close + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const top = stack.pop();
      if (!top || top.name !== name || stack.length === 0) throw new Error(`</${name}> closes <${top?.name}> at ${open}`);
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const m = /^([A-Za-z][\w:.-]*)((?:\s+[A-Za-z][\w:.-]*="[^"<]*")*)\s*\/?$/.exec(tag);
    if (!m) throw new Error(`malformed tag at ${open}: <${tag.slice(0, 60)}>`);
    const attributes: Record<string, string> = {};
    for (const a of m[2].matchAll(/([A-Za-z][\w:.-]*)="([^"]*)"/g)) {
      if (a[1] in attributes) throw new Error(`duplicate attribute ${a[1]} at ${open}`);
      attributes[a[1]] = a[2];
    }
    const element: XmlElement = { name: m[1], attributes, children: [], text: '' };
    stack[stack.length - 1].children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  if (root.children.length !== 1 || root.text.trim() !== '') throw new Error('a document has exactly one root element');
  return root.children[0];
}

/** Every element under `e` (depth first, `e` included) that satisfies `match`. */
export function findAll(e: XmlElement, match: (e: XmlElement) => boolean): XmlElement[] {
  return [...(match(e) ? [e] : []), ...e.children.flatMap((c) => findAll(c, match))];
}
