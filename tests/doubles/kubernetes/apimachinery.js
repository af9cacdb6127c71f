'use strict';
// The Kubernetes API machinery the double needs, written from the API
// reference and k8s.io/apimachinery + k8s.io/apiserver: Status errors (their
// messages, reasons and details as the API server words them), label and
// field selectors, the three patch types, continue tokens, and time stamps.

const crypto = require('crypto');
const lib = require('../lib');

// ---------------------------------------------------------------- Status errors

// A group-qualified resource as GroupResource.String() prints it:
// "deployments.apps", "pods".
function qualified(group, resource) { return group ? `${resource}.${group}` : resource; }

// metav1.Status for a failure; key order as encoding/json writes the struct.
function statusObject(code, reason, message, details, listMeta) {
  const s = { kind: 'Status', apiVersion: 'v1', metadata: listMeta || {}, status: 'Failure' };
  if (message) s.message = message;
  if (reason) s.reason = reason;
  if (details) s.details = details;
  s.code = code;
  return s;
}

// StatusDetails with empty fields left out (omitempty).
function statusDetails(d) {
  const out = {};
  for (const k of ['name', 'group', 'kind', 'uid', 'causes', 'retryAfterSeconds']) {
    if (d[k] !== undefined && d[k] !== '' && d[k] !== 0) out[k] = d[k];
  }
  return out;
}

// An error whose answer is a whole Status; the double's errorBody sends it.
function apiError(code, reason, message, details, extra) {
  const e = new lib.HttpError(code, message, { status: statusObject(code, reason, message, details, extra && extra.listMeta) });
  if (extra && extra.headers) e.details.headers = extra.headers;
  return e;
}

const errors = {
  notFound: (group, resource, name) => apiError(404, 'NotFound', `${qualified(group, resource)} "${name}" not found`,
    statusDetails({ name, group, kind: resource })),
  // A path no API serves (apiserver's NotFound handler).
  noRoute: () => apiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  conflict: (group, resource, name, why) => apiError(409, 'Conflict',
    `Operation cannot be fulfilled on ${qualified(group, resource)} "${name}": ${why}`, statusDetails({ name, group, kind: resource })),
  optimisticLock: (group, resource, name) => errors.conflict(group, resource, name,
    'the object has been modified; please apply your changes to the latest version and try again'),
  forbidden: (group, resource, name, why) => {
    const gr = resource ? qualified(group, resource) : '';
    let message;
    if (!gr) message = `forbidden: ${why}`;
    else if (!name) message = `${gr} is forbidden: ${why}`;
    else message = `${gr} "${name}" is forbidden: ${why}`;
    return apiError(403, 'Forbidden', message, statusDetails({ name, group, kind: resource }));
  },
  unauthorized: () => apiError(401, 'Unauthorized', 'Unauthorized'),
  badRequest: (message) => apiError(400, 'BadRequest', message),
  // field.ErrorList -> StatusReasonInvalid (errors.NewInvalid).
  invalid: (group, kind, name, fieldErrors) => {
    const causes = fieldErrors.map((f) => ({ reason: f.type, message: f.body, field: f.field }));
    const agg = fieldErrors.map((f) => `${f.field}: ${f.body}`);
    const gk = group ? `${kind}.${group}` : kind;
    const message = `${gk} "${name}" is invalid: ${agg.length === 1 ? agg[0] : `[${agg.join(', ')}]`}`;
    return apiError(422, 'Invalid', message, statusDetails({ name, group, kind, causes }));
  },
  // NewGenericServerResponse(422, ...): a JSON patch that does not apply.
  unprocessable: (cause) => apiError(422, 'Invalid', 'the server rejected our request due to an error in our request',
    { causes: [{ message: cause }] }),
  expired: (message, cont) => apiError(410, 'Expired', message, undefined, cont ? { listMeta: { continue: cont } } : undefined),
  unsupportedMediaType: (accepted) => apiError(415, 'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`),
  notAcceptable: (accepted) => apiError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`),
  methodNotAllowed: () => apiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource',
    { causes: [{ message: '405: Method Not Allowed' }] }),
  tooManyRequests: (retryAfter) => apiError(429, 'TooManyRequests', 'Too many requests, please try again later.',
    { retryAfterSeconds: retryAfter }, { headers: { 'Retry-After': String(retryAfter) } }),
  timeout: (message, causes) => apiError(504, 'Timeout', message, causes ? { causes } : undefined),
};

// A Status for an answer the library makes (fault rules, its own errors):
// shaped as the API server shapes that code.
function statusForCode(code, message) {
  switch (code) {
    case 400: return statusObject(code, 'BadRequest', message);
    case 401: return statusObject(code, 'Unauthorized', 'Unauthorized');
    case 403: return statusObject(code, 'Forbidden', `forbidden: ${message}`, {});
    case 404: return statusObject(code, 'NotFound', 'the server could not find the requested resource', {});
    case 405: return statusObject(code, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    case 409: return statusObject(code, 'Conflict', message, {});
    case 413: return statusObject(code, 'RequestEntityTooLarge', `Request entity too large: ${message}`);
    case 429: return statusObject(code, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: 1 });
    case 500: return statusObject(code, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
    case 503: return statusObject(code, 'ServiceUnavailable', message);
    case 504: return statusObject(code, 'Timeout', `Timeout: ${message}`);
    default: return statusObject(code, '', message);
  }
}

// ---------------------------------------------------------------- times, names, hashes

// metav1.Time: RFC 3339, whole seconds, UTC.
function rfc3339(ms) { return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'); }
// metav1.MicroTime: six fractional digits.
function microTime(ms) { return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'); }
function parseTime(s) { return s ? Date.parse(s) : NaN; }

// k8s.io/apimachinery/pkg/util/rand: the alphabet of generated names (no
// vowels, no 0/1/3) and SafeEncodeString of a hash's decimal digits.
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(n) {
  const b = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHANUMS[b[i] % ALPHANUMS.length];
  return s;
}
function safeEncode(s) { let r = ''; for (const ch of Buffer.from(s)) r += ALPHANUMS[ch % ALPHANUMS.length]; return r; }
function fnv32a(text) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text)) { h ^= b; h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}
// A pod-template-hash / controller-revision hash: FNV-32a over the template
// (the real one hashes Go's printed struct; the double its canonical JSON).
function templateHash(template, collisionCount) {
  return safeEncode(String(fnv32a(canonicalJSON(template) + (collisionCount ? `#${collisionCount}` : ''))));
}
function canonicalJSON(v) {
  if (Array.isArray(v)) return `[${v.map(canonicalJSON).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJSON(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }

// ---------------------------------------------------------------- label selectors

const NAME_RE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
function validLabelKey(k) {
  const slash = k.indexOf('/');
  if (slash < 0) return NAME_RE.test(k);
  const prefix = k.slice(0, slash);
  return prefix.length <= 253 && PREFIX_RE.test(prefix) && NAME_RE.test(k.slice(slash + 1));
}
function validLabelValue(v) { return v === '' || NAME_RE.test(v); }

// Tokens of the label selector grammar (k8s.io/apimachinery/pkg/labels).
function lexSelector(text) {
  const toks = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')' || c === ',') { toks.push({ t: c }); i++; continue; }
    if (text.startsWith('==', i)) { toks.push({ t: '==' }); i += 2; continue; }
    if (text.startsWith('!=', i)) { toks.push({ t: '!=' }); i += 2; continue; }
    if (c === '=' || c === '!' || c === '>' || c === '<') { toks.push({ t: c }); i++; continue; }
    let j = i;
    while (j < text.length && !/[\s(),=!<>]/.test(text[j])) j++;
    const word = text.slice(i, j);
    toks.push({ t: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'id', v: word });
    i = j;
  }
  return toks;
}

// Parse a label selector string into requirements {key, op, values};
// throws a 400 BadRequest like the API server's parameter decoding.
function parseLabelSelector(text) {
  const reqs = [];
  if (!text || !text.trim()) return reqs;
  const toks = lexSelector(text);
  let p = 0;
  const fail = (why) => { throw errors.badRequest(`unable to parse requirement: ${why}`); };
  const peek = () => toks[p] || { t: 'end' };
  const next = () => toks[p++] || { t: 'end' };
  for (;;) {
    let t = next();
    let op;
    let key;
    if (t.t === '!') {
      t = next();
      if (t.t !== 'id') fail(`found '${t.v || t.t}', expected: identifier after '!'`);
      key = t.v; op = '!';
    } else {
      if (t.t !== 'id') fail(`found '${t.v || t.t}', expected: !, identifier, or 'end of string'`);
      key = t.v;
      const o = peek();
      if (['=', '==', '!=', 'in', 'notin', '>', '<'].includes(o.t)) { p++; op = o.t === '==' ? '=' : o.t; } else op = 'exists';
    }
    if (!validLabelKey(key)) fail(`invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.'`);
    let values = [];
    if (op === 'in' || op === 'notin') {
      if (next().t !== '(') fail(`found '${toks[p - 1] ? (toks[p - 1].v || toks[p - 1].t) : 'end of string'}', expected: '('`);
      for (;;) {
        const v = peek();
        if (v.t === 'id') { values.push(v.v); p++; } else if (v.t === ',' || v.t === ')') values.push(''); else fail(`found '${v.v || v.t}', expected: ',', ')' or identifier`);
        const s = next();
        if (s.t === ')') break;
        if (s.t !== ',') fail(`found '${s.v || s.t}', expected: ',' or ')'`);
      }
      values = [...new Set(values)];
    } else if (op === '=' || op === '!=' || op === '>' || op === '<') {
      const v = peek();
      if (v.t === 'id') { values = [v.v]; p++; } else values = [''];
      if ((op === '>' || op === '<') && !/^-?\d+$/.test(values[0])) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
    }
    for (const v of values) if (op !== '>' && op !== '<' && !validLabelValue(v)) fail(`invalid label value: "${v}"`);
    reqs.push({ key, op, values });
    const sep = next();
    if (sep.t === 'end') break;
    if (sep.t !== ',') fail(`found '${sep.v || sep.t}', expected: ',' or 'end of string'`);
  }
  return reqs;
}

function labelsMatch(reqs, labels) {
  const l = labels || {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case '=': return has && l[r.key] === r.values[0];
      case '!=': return !has || l[r.key] !== r.values[0];
      case 'in': return has && r.values.includes(l[r.key]);
      case 'notin': return !has || !r.values.includes(l[r.key]);
      case 'exists': return has;
      case '!': return !has;
      case '>': return has && /^-?\d+$/.test(l[r.key]) && Number(l[r.key]) > Number(r.values[0]);
      case '<': return has && /^-?\d+$/.test(l[r.key]) && Number(l[r.key]) < Number(r.values[0]);
      default: return false;
    }
  });
}

// metav1.LabelSelector -> requirements; String() of the selector as
// LabelSelectorAsSelector prints it: requirements sorted by key, set values
// sorted ("app=planner,role=agent", "tier in (a,b)").
function selectorRequirements(sel) {
  const reqs = [];
  for (const [k, v] of Object.entries((sel && sel.matchLabels) || {})) reqs.push({ key: k, op: '=', values: [v] });
  for (const e of (sel && sel.matchExpressions) || []) {
    const op = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' }[e.operator];
    reqs.push({ key: e.key, op, values: [...(e.values || [])] });
  }
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
function selectorString(sel) {
  return selectorRequirements(sel).map((r) => {
    switch (r.op) {
      case '=': return `${r.key}=${r.values[0]}`;
      case 'in': return `${r.key} in (${[...r.values].sort().join(',')})`;
      case 'notin': return `${r.key} notin (${[...r.values].sort().join(',')})`;
      case 'exists': return r.key;
      default: return `!${r.key}`;
    }
  }).join(',');
}

// ---------------------------------------------------------------- field selectors

// Parse "a=b,c!=d" (fields.ParseSelector); only the names in `supported`
// (a map name -> getter(obj)) are allowed, else 400 as the API server says.
function parseFieldSelector(text, supported) {
  const reqs = [];
  if (!text || !text.trim()) return reqs;
  for (const part of text.split(',')) {
    const m = /^\s*([^=!\s]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw errors.badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    if (!supported[m[1]]) throw errors.badRequest(`field label not supported: ${m[1]}`);
    reqs.push({ get: supported[m[1]], neg: m[2] === '!=', value: m[3] });
  }
  return reqs;
}
function fieldsMatch(reqs, obj) {
  return reqs.every((r) => {
    const v = r.get(obj);
    const s = v === undefined || v === null ? '' : String(v);
    return r.neg ? s !== r.value : s === r.value;
  });
}

// ---------------------------------------------------------------- patches

const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
const BODY_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

// RFC 7386 JSON merge patch.
function mergePatch(target, patch) {
  if (!isObj(patch)) return clone(patch);
  const out = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// Strategic merge patch (k8s.io/apimachinery/pkg/util/strategicpatch), for
// the lists of the objects the double serves: lists named here merge by
// their patchMergeKey, other lists are replaced; "$patch": "replace" /
// "delete", "$retainKeys", "$deleteFromPrimitiveList/<f>" and
// "$setElementOrder/<f>" directives.
const MERGE_KEYS = {
  containers: 'name', initContainers: 'name', ephemeralContainers: 'name', env: 'name', ports: 'containerPort',
  volumes: 'name', volumeMounts: 'mountPath', volumeDevices: 'devicePath', imagePullSecrets: 'name', conditions: 'type',
  ownerReferences: 'uid', hostAliases: 'ip', topologySpreadConstraints: 'topologyKey', resourceClaims: 'name',
};
function strategicMerge(target, patch) {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'delete') return undefined;
  const base = patch.$patch === 'replace' ? {} : (isObj(target) ? clone(target) : {});
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k.startsWith('$setElementOrder/')) continue;
    if (k === '$retainKeys') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(base[f])) base[f] = base[f].filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) { delete base[k]; continue; }
    if (Array.isArray(v) && MERGE_KEYS[k] && Array.isArray(base[k])) { base[k] = mergeList(base[k], v, MERGE_KEYS[k]); continue; }
    if (Array.isArray(v)) { base[k] = v.filter((x) => !(isObj(x) && x.$patch)).map(clone); continue; }
    const merged = strategicMerge(base[k], v);
    if (merged === undefined) delete base[k]; else base[k] = merged;
  }
  if (Array.isArray(patch.$retainKeys)) for (const k of Object.keys(base)) if (!patch.$retainKeys.includes(k)) delete base[k];
  return base;
}
function mergeList(orig, patch, key) {
  if (patch.some((x) => isObj(x) && x.$patch === 'replace')) return patch.filter((x) => !(isObj(x) && x.$patch)).map(clone);
  const out = orig.map(clone);
  for (const item of patch) {
    if (!isObj(item)) { out.push(clone(item)); continue; }
    const at = out.findIndex((o) => isObj(o) && o[key] === item[key]);
    if (item.$patch === 'delete') { if (at >= 0) out.splice(at, 1); continue; }
    if (at >= 0) out[at] = strategicMerge(out[at], item); else out.push(strategicMerge({}, item));
  }
  return out;
}

// RFC 6902 JSON patch; errors as the API server's: a malformed patch is a
// 400, one that does not apply a 422.
function jsonPointer(path) {
  if (path === '') return [];
  if (!path.startsWith('/')) throw errors.unprocessable(`add operation does not apply: doc is missing path: "${path}": missing value`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
function jsonPatch(doc, ops) {
  if (!Array.isArray(ops)) throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let root = clone(doc);
  const container = (segs, op) => {
    let cur = root;
    for (const s of segs.slice(0, -1)) {
      const nxt = Array.isArray(cur) ? cur[Number(s)] : (isObj(cur) ? cur[s] : undefined);
      if (nxt === undefined) throw errors.unprocessable(`${op} operation does not apply: doc is missing path: "/${segs.join('/')}": missing value`);
      cur = nxt;
    }
    return cur;
  };
  const getAt = (path, op) => {
    const segs = jsonPointer(path);
    let cur = root;
    for (const s of segs) {
      cur = Array.isArray(cur) ? cur[Number(s)] : (isObj(cur) ? cur[s] : undefined);
      if (cur === undefined) throw errors.unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    }
    return cur;
  };
  const remove = (path, op) => {
    const segs = jsonPointer(path);
    const c = container(segs, op);
    const last = segs[segs.length - 1];
    if (Array.isArray(c)) {
      const i = Number(last);
      if (!(i >= 0 && i < c.length)) throw errors.unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
      return c.splice(i, 1)[0];
    }
    if (!isObj(c) || !(last in c)) throw errors.unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
    const v = c[last];
    delete c[last];
    return v;
  };
  const add = (path, value, op) => {
    const segs = jsonPointer(path);
    if (segs.length === 0) { root = clone(value); return; }
    const c = container(segs, op);
    const last = segs[segs.length - 1];
    if (Array.isArray(c)) {
      const i = last === '-' ? c.length : Number(last);
      if (!(i >= 0 && i <= c.length)) throw errors.unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
      if (op === 'replace') c[i] = clone(value); else c.splice(i, 0, clone(value));
    } else if (isObj(c)) {
      if (op === 'replace' && !(last in c)) throw errors.unprocessable(`replace operation does not apply: doc is missing key: ${path}: missing value`);
      c[last] = clone(value);
    } else throw errors.unprocessable(`${op} operation does not apply: doc is missing path: "${path}": missing value`);
  };
  for (const o of ops) {
    if (!isObj(o) || typeof o.op !== 'string') throw errors.badRequest('json: cannot unmarshal into jsonpatch operation');
    switch (o.op) {
      case 'add': add(o.path, o.value, 'add'); break;
      case 'remove': remove(o.path, 'remove'); break;
      case 'replace': add(o.path, o.value, 'replace'); break;
      case 'move': { const v = remove(o.from, 'move'); add(o.path, v, 'move'); break; }
      case 'copy': add(o.path, clone(getAt(o.from, 'copy')), 'copy'); break;
      case 'test':
        if (canonicalJSON(getAt(o.path, 'test')) !== canonicalJSON(o.value)) throw errors.unprocessable(`testing value ${o.path} failed: test failed`);
        break;
      default: throw errors.unprocessable(`Unexpected kind: ${o.op}`);
    }
  }
  return root;
}

// The media type of a Content-Type header without parameters.
function mediaType(header) { return String(header || '').split(';')[0].trim().toLowerCase(); }

// Parse a patch body and apply it to doc; query gives fieldManager (apply).
function applyPatch(doc, contentType, bodyText, query) {
  const type = mediaType(contentType);
  if (!PATCH_TYPES.includes(type)) throw errors.unsupportedMediaType(PATCH_TYPES);
  if (type === 'application/apply-patch+yaml' && !query.get('fieldManager')) {
    throw errors.invalid('meta.k8s.io', 'PatchOptions', '', [{ type: 'FieldValueRequired', field: 'fieldManager', body: 'Required value: is required for apply patch' }]);
  }
  let patch;
  try { patch = JSON.parse(bodyText); } catch (e) {
    if (type === 'application/apply-patch+yaml') throw errors.badRequest(`error decoding YAML: the Kubernetes double reads apply patches in JSON form only: ${e.message}`);
    throw errors.badRequest(`error decoding patch: ${e.message}`);
  }
  switch (type) {
    case 'application/json-patch+json': return jsonPatch(doc, patch);
    case 'application/merge-patch+json': if (!isObj(patch)) throw errors.badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}'); return mergePatch(doc, patch);
    case 'application/strategic-merge-patch+json': if (!isObj(patch)) throw errors.badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}'); return strategicMerge(doc, patch);
    default: return mergePatch(doc, patch); // server-side apply, approximated: the applied fields win
  }
}

// ---------------------------------------------------------------- continue tokens

// k8s.io/apiserver/pkg/storage: base64url (no padding) of
// {"v":"meta.k8s.io/v1","rv":N,"start":"<key after the prefix>"}.
function encodeContinue(startKey, rv) {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: startKey })).toString('base64url');
}
function decodeContinue(token) {
  const bad = (why) => errors.badRequest(`invalid continue token: ${why}`);
  if (!/^[A-Za-z0-9_-]*$/.test(token)) throw bad('continue key is not valid: illegal base64 data');
  let c;
  try { c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')); } catch (e) { throw bad(`continue key is not valid: ${e.message}`); }
  if (!isObj(c)) throw bad('continue key is not valid: json: cannot unmarshal into continueToken');
  if (c.v !== 'meta.k8s.io/v1') throw bad(`continue key is not valid: server does not recognize this encoded version ${c.v}`);
  if (!Number.isInteger(c.rv) || c.rv === 0) throw bad('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof c.start !== 'string' || c.start === '') throw bad('continue key is not valid: encoded start key empty (version meta.k8s.io/v1)');
  const key = c.start.startsWith('/') ? c.start : '/' + c.start;
  if (key.split('/').some((s) => s === '..' || s === '.') || /\/\/|\/$/.test(key.replace(/\0$/, ''))) throw bad(`continue key is not valid: ${c.start}`);
  return { start: key.slice(1), rv: c.rv };
}

const CONTINUE_EXPIRED = 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';
const LIST_EXPIRED = 'The resourceVersion for the provided list is too old.';

module.exports = {
  qualified, statusObject, statusDetails, apiError, errors, statusForCode,
  rfc3339, microTime, parseTime, randomSuffix, safeEncode, fnv32a, templateHash, canonicalJSON, clone,
  parseLabelSelector, labelsMatch, selectorRequirements, selectorString, validLabelKey, validLabelValue,
  parseFieldSelector, fieldsMatch,
  PATCH_TYPES, BODY_TYPES, mediaType, mergePatch, strategicMerge, jsonPatch, applyPatch, isObj,
  encodeContinue, decodeContinue, CONTINUE_EXPIRED, LIST_EXPIRED,
};
