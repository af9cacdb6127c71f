'use strict';
// XML for the doubles that speak it (S3): a builder for responses and a small
// parser for request bodies.  Enough for the documents such APIs exchange
// (elements, attributes, text, CDATA, comments, the five entities and
// character references); no DTDs, no processing beyond the declaration.

function escape(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

// build('Error', {Code: 'NoSuchKey', Message: 'The specified key does not exist.'}, {xmlns})
// An object's keys become child elements in order; an array repeats the
// element; a string, number or boolean is the text; null or undefined leaves
// the element out; "@name" keys are attributes; "#text" is text next to children.
function build(root, obj, options) {
  const o = options || {};
  const attrs = o.xmlns ? { '@xmlns': o.xmlns } : {};
  const value = obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? Object.assign({}, attrs, obj) : obj;
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + element(root, value) + '\n';
}

function element(name, v) {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => element(name, x)).join('');
  if (typeof v !== 'object') return `<${name}>${escape(v)}</${name}>`;
  let attrs = '', inner = '';
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('@')) { if (x !== null && x !== undefined) attrs += ` ${k.slice(1)}="${escape(x)}"`; }
    else if (k === '#text') inner += escape(x);
    else inner += element(k, x);
  }
  return inner === '' ? `<${name}${attrs}/>` : `<${name}${attrs}>${inner}</${name}>`;
}

class XmlError extends Error {}

const ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
function unescape(s) {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    if (!(e in ENTITIES)) throw new XmlError(`unknown entity &${e};`);
    return ENTITIES[e];
  });
}

// parse(text) -> the root node {name, local, attrs, children, text}; throws
// XmlError on anything malformed.  node.child(local) is the first child of
// that local name (namespace prefix ignored), node.all(local) every one,
// node.textOf(local) a child's text ('' when absent).
function parse(text) {
  let i = 0;
  const s = String(text);
  const fail = (msg) => { throw new XmlError(`${msg} at offset ${i}`); };
  const skipMisc = () => {
    for (;;) {
      while (i < s.length && /\s/.test(s[i])) i++;
      if (s.startsWith('<?', i)) { const e = s.indexOf('?>', i); if (e < 0) fail('unterminated declaration'); i = e + 2; continue; }
      if (s.startsWith('<!--', i)) { const e = s.indexOf('-->', i); if (e < 0) fail('unterminated comment'); i = e + 3; continue; }
      if (s.startsWith('<!', i)) fail('DTDs are not supported');
      return;
    }
  };
  const NAME = /[A-Za-z_][\w.:-]*/y;
  const readName = () => { NAME.lastIndex = i; const m = NAME.exec(s); if (!m) fail('expected a name'); i = NAME.lastIndex; return m[0]; };
  const node = (name) => ({
    name, local: name.includes(':') ? name.slice(name.indexOf(':') + 1) : name, attrs: {}, children: [], text: '',
    child(l) { return this.children.find((c) => c.local === l) || null; },
    all(l) { return this.children.filter((c) => c.local === l); },
    textOf(l) { const c = this.child(l); return c ? c.text : ''; },
  });
  const readElement = () => {
    if (s[i] !== '<') fail('expected an element');
    i++;
    const n = node(readName());
    for (;;) {
      while (/\s/.test(s[i] || '')) i++;
      if (s.startsWith('/>', i)) { i += 2; return n; }
      if (s[i] === '>') { i++; break; }
      const a = readName();
      while (/\s/.test(s[i] || '')) i++;
      if (s[i] !== '=') fail('expected = after an attribute name');
      i++;
      while (/\s/.test(s[i] || '')) i++;
      const q = s[i];
      if (q !== '"' && q !== "'") fail('expected a quoted attribute value');
      const e = s.indexOf(q, i + 1);
      if (e < 0) fail('unterminated attribute value');
      n.attrs[a] = unescape(s.slice(i + 1, e));
      i = e + 1;
    }
    for (;;) {
      if (i >= s.length) fail(`element <${n.name}> is not closed`);
      if (s.startsWith('</', i)) {
        i += 2;
        const close = readName();
        if (close !== n.name) fail(`</${close}> closes <${n.name}>`);
        while (/\s/.test(s[i] || '')) i++;
        if (s[i] !== '>') fail('expected >');
        i++;
        if (n.children.length) n.text = n.text.trim() === '' ? '' : n.text;
        return n;
      }
      if (s.startsWith('<!--', i)) { const e = s.indexOf('-->', i); if (e < 0) fail('unterminated comment'); i = e + 3; continue; }
      if (s.startsWith('<![CDATA[', i)) { const e = s.indexOf(']]>', i); if (e < 0) fail('unterminated CDATA'); n.text += s.slice(i + 9, e); i = e + 3; continue; }
      if (s[i] === '<') { n.children.push(readElement()); continue; }
      const e = s.indexOf('<', i);
      n.text += unescape(s.slice(i, e < 0 ? s.length : e));
      i = e < 0 ? s.length : e;
    }
  };
  skipMisc();
  if (i >= s.length) fail('empty document');
  const root = readElement();
  skipMisc();
  if (i < s.length) fail('content after the root element');
  return root;
}

module.exports = { build, parse, escape, XmlError };
