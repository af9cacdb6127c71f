'use strict';
// Authentication and authorization as the API server's filters do them:
// bearer tokens (k8s.io/apiserver/pkg/authentication/request/bearertoken:
// "Bearer <token>", scheme case-insensitive, an empty token is no token, an
// unknown token a 401), optional anonymous requests (system:anonymous, which
// RBAC lets read only /healthz, /livez, /readyz and /version), and
// RBAC-like denials (403 with the message of
// k8s.io/apiserver/pkg/endpoints/handlers/responsewriters.forbiddenMessage).

const fs = require('fs');
const am = require('./apimachinery');

const DEFAULT_USER = 'system:serviceaccount:ai-agents:drctl';
const VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', '*']);
const PUBLIC_PATHS = ['/healthz', '/livez', '/readyz', '/version'];

// A token file, re-read whenever it changes (a projected service-account
// token is replaced by the kubelet before it expires).
class TokenFile {
  constructor(file, user) { this.file = file; this.user = user || DEFAULT_USER; this.stamp = null; this.token = null; }
  current() {
    let st;
    try { st = fs.statSync(this.file); } catch (e) { this.stamp = null; this.token = null; return null; }
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (stamp !== this.stamp) {
      try { this.token = fs.readFileSync(this.file, 'utf8').trim(); } catch (e) { this.token = null; }
      this.stamp = stamp;
    }
    return this.token || null;
  }
}

// A denial rule: "VERB RESOURCE[/SUBRESOURCE] [NAME] [user=U] [ns=N] [group=G]"
// or {verb, resource, name, user, namespace, group}; "*" matches anything.
function parseRule(r) {
  if (typeof r === 'string') {
    const parts = r.trim().split(/\s+/);
    if (parts.length < 2) throw new Error(`forbid rule "${r}": needs at least a verb and a resource`);
    const rule = { verb: parts[0], resource: parts[1] };
    for (const p of parts.slice(2)) {
      const eq = p.indexOf('=');
      if (eq < 0) rule.name = p;
      else {
        const k = p.slice(0, eq);
        const key = { user: 'user', ns: 'namespace', namespace: 'namespace', group: 'group', name: 'name' }[k];
        if (!key) throw new Error(`forbid rule "${r}": unknown key ${k} (user=, ns=, group=, name=)`);
        rule[key] = p.slice(eq + 1);
      }
    }
    return parseRule(rule);
  }
  if (!r || typeof r !== 'object' || typeof r.verb !== 'string' || typeof r.resource !== 'string') {
    throw new Error('a forbid rule is "VERB RESOURCE[/SUB] [NAME] [user=U] [ns=N] [group=G]" or {"verb", "resource", ...}');
  }
  for (const v of r.verb.split(',')) if (!VERBS.has(v)) throw new Error(`forbid rule: unknown verb ${v}`);
  for (const k of Object.keys(r)) if (!['verb', 'resource', 'name', 'user', 'namespace', 'group', 'reason'].includes(k)) throw new Error(`forbid rule: unknown key ${k}`);
  return Object.assign({}, r);
}

function ruleMatches(rule, user, info) {
  const m = (want, got) => want === undefined || want === '*' || want.split(',').includes(got);
  const res = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  return m(rule.verb, info.verb) && m(rule.resource, res) && m(rule.name, info.name || '') && m(rule.user, user)
    && m(rule.namespace, info.namespace || '') && m(rule.group, info.group);
}

class Auth {
  constructor(o) {
    this.tokenFiles = (o.tokenFiles || []).map((t) => new TokenFile(t.file, t.user));
    this.anonymous = !!o.anonymous;
    this.rules = (o.forbid || []).map(parseRule);
  }

  // The user a request authenticates as, null for none (no usable
  // Authorization header); throws 401 for a token nobody issued.
  authenticate(req) {
    const h = req.headers.authorization;
    if (h === undefined) return null;
    const parts = h.split(' ');
    if (parts.length < 2 || parts[0].toLowerCase() !== 'bearer') return null;
    const token = parts[1];
    if (!token) return null;
    for (const tf of this.tokenFiles) if (tf.current() === token) return tf.user;
    if (!this.tokenFiles.length) return DEFAULT_USER; // no token file: any bearer token is accepted (README)
    throw am.errors.unauthorized();
  }

  // The user for the request log, never throwing.
  userFor(req) {
    try { return this.authenticate(req) || (this.anonymous ? 'system:anonymous' : null); } catch (e) { return null; }
  }

  // authentication, then (for an authenticated or anonymous user) the rules
  identify(req) {
    const user = this.authenticate(req);
    if (user) return user;
    if (!this.anonymous) throw am.errors.unauthorized();
    return 'system:anonymous';
  }

  authorize(user, info) {
    let denied = null;
    if (user === 'system:anonymous') {
      const publicPath = !info.isResource && PUBLIC_PATHS.some((p) => info.path === p || info.path.startsWith(p + '/'));
      if (!publicPath) denied = {};
    }
    if (!denied && info.isResource) denied = this.rules.find((r) => ruleMatches(r, user, info)) || null;
    if (!denied) return;
    const why = forbiddenMessage(user, info) + (denied.reason ? `: ${denied.reason}` : '');
    if (!info.isResource) throw am.errors.forbidden('', '', '', why);
    throw am.errors.forbidden(info.group, info.resource, info.name, why);
  }
}

function forbiddenMessage(user, info) {
  if (!info.isResource) return `User "${user}" cannot ${info.verb} path "${info.path}"`;
  const res = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  if (info.namespace) return `User "${user}" cannot ${info.verb} resource "${res}" in API group "${info.group}" in the namespace "${info.namespace}"`;
  return `User "${user}" cannot ${info.verb} resource "${res}" in API group "${info.group}" at the cluster scope`;
}

// k8s.io/apiserver/pkg/endpoints/request.RequestInfoFactory: what a path
// means (group, version, namespace, resource, name, subresource, verb).
function requestInfo(req) {
  const path = req.path;
  const info = { path, isResource: false, verb: req.method.toLowerCase(), group: '', version: '', namespace: '', resource: '', name: '', subresource: '' };
  const parts = path.split('/').filter((s) => s !== '');
  let rest;
  if (parts[0] === 'api' && parts.length >= 3) { info.version = parts[1]; rest = parts.slice(2); } else if (parts[0] === 'apis' && parts.length >= 4) {
    info.group = parts[1]; info.version = parts[2]; rest = parts.slice(3);
  } else return info;
  info.isResource = true;
  if (rest[0] === 'namespaces' && rest.length >= 2) {
    if (rest.length > 2) { info.namespace = rest[1]; rest = rest.slice(2); } else { info.resource = 'namespaces'; info.name = rest[1]; rest = []; }
  }
  if (rest.length) { info.resource = rest[0]; info.name = rest[1] || ''; info.subresource = rest[2] || ''; info.extra = rest.slice(3); }
  const watch = ['1', 'true'].includes((req.query.get('watch') || '').toLowerCase());
  switch (req.method) {
    case 'GET': case 'HEAD': info.verb = info.name ? (watch ? 'watch' : 'get') : (watch ? 'watch' : 'list'); break;
    case 'POST': info.verb = 'create'; break;
    case 'PUT': info.verb = 'update'; break;
    case 'PATCH': info.verb = 'patch'; break;
    case 'DELETE': info.verb = info.name ? 'delete' : 'deletecollection'; break;
    default: info.verb = '';
  }
  return info;
}

module.exports = { Auth, TokenFile, parseRule, requestInfo, forbiddenMessage, DEFAULT_USER };
