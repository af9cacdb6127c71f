'use strict';
// Fault switches any double can use: rules that match requests by method,
// path and query, fire a number of times, and make the answer fail in one of
// a few ways (see README.md, "Faults").  The double's admin endpoint adds and
// removes rules (POST/DELETE /__double/faults); double.js applies them
// before the double's own handler sees a request.

const ACTIONS = new Set(['status', 'delay', 'stall', 'reset', 'cut', 'flag']);
const KEYS = new Set(['method', 'path', 'query', 'count', 'always', 'skip', 'action', 'status', 'headers', 'body', 'json',
  'ms', 'after_bytes', 'name']);

class FaultError extends Error {
  constructor(message) { super(message); this.status = 400; }
}

// A path pattern: "*" matches any run of characters (slashes too); anything
// else is literal.  "/bucket/*" matches "/bucket/a/b"; "*" matches every path.
function globRe(pattern) {
  const body = pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp('^' + body + '$');
}

function validate(spec) {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw new FaultError('a fault rule is a JSON object');
  for (const k of Object.keys(spec)) {
    if (!KEYS.has(k)) throw new FaultError(`unknown fault rule key "${k}"; known: ${[...KEYS].join(', ')}`);
  }
  const action = spec.action || (spec.status !== undefined ? 'status' : null);
  if (!ACTIONS.has(action)) throw new FaultError(`fault rule needs "action": one of ${[...ACTIONS].join(', ')}`);
  const int = (k, min) => {
    if (spec[k] === undefined) return;
    if (!Number.isInteger(spec[k]) || spec[k] < min) throw new FaultError(`fault rule "${k}" must be an integer >= ${min}`);
  };
  int('count', 1); int('skip', 0); int('ms', 0); int('after_bytes', 0);
  if (spec.status !== undefined && (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 999)) {
    throw new FaultError('fault rule "status" must be an HTTP status code (100..999)');
  }
  if (action === 'status' && spec.status === undefined) throw new FaultError('action "status" needs "status"');
  if ((action === 'reset' || action === 'cut') && spec.after_bytes === undefined) throw new FaultError(`action "${action}" needs "after_bytes"`);
  if (action === 'delay' && spec.ms === undefined) throw new FaultError('action "delay" needs "ms"');
  if (action === 'flag' && (typeof spec.name !== 'string' || !spec.name)) throw new FaultError('action "flag" needs "name"');
  if (spec.body !== undefined && typeof spec.body !== 'string') throw new FaultError('fault rule "body" must be a string (use "json" for a JSON body)');
  if (spec.headers !== undefined && (typeof spec.headers !== 'object' || spec.headers === null || Array.isArray(spec.headers))) {
    throw new FaultError('fault rule "headers" must be an object of header names to values');
  }
  if (spec.query !== undefined && (typeof spec.query !== 'object' || spec.query === null || Array.isArray(spec.query))) {
    throw new FaultError('fault rule "query" must be an object: {"name": "value"} or {"name": true} (present)');
  }
  const methods = spec.method === undefined || spec.method === '*' ? null
    : (Array.isArray(spec.method) ? spec.method : [spec.method]).map((m) => String(m).toUpperCase());
  if (spec.path !== undefined && typeof spec.path !== 'string') throw new FaultError('fault rule "path" must be a string');
  return { action, methods };
}

class FaultSet {
  constructor() {
    this.rules = [];
    this.nextId = 1;
    this.held = new Set(); // sockets held by a stall, released on clear
  }

  // Add one rule (an object) or several (an array); returns the new rules.
  add(specs) {
    const list = Array.isArray(specs) ? specs : [specs];
    const checked = list.map((s) => Object.assign({ spec: s }, validate(s)));
    const added = [];
    for (const c of checked) {
      const s = c.spec;
      const rule = {
        id: this.nextId++,
        method: c.methods ? c.methods : '*', path: s.path || '*', query: s.query || null,
        action: c.action, always: !!s.always, remaining: s.always ? null : (s.count || 1), skip: s.skip || 0, fired: 0,
        status: s.status, headers: s.headers, body: s.body, json: s.json, ms: s.ms, after_bytes: s.after_bytes, name: s.name,
      };
      rule.re = globRe(rule.path);
      this.rules.push(rule);
      added.push(rule);
    }
    return added.map(view);
  }

  remove(id) {
    const n = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    return this.rules.length !== n;
  }

  clear() {
    this.rules = [];
    for (const s of this.held) s.destroy();
    this.held.clear();
  }

  list() { return this.rules.map(view); }

  // The first rule that matches the request and still has shots left, or
  // null.  Counts the match (a skipped match counts as one let through).
  take(req) {
    for (const r of this.rules) {
      if (!matches(r, req)) continue;
      if (!r.always && r.remaining <= 0) continue;
      if (r.skip > 0) { r.skip--; continue; }
      if (!r.always) r.remaining--;
      r.fired++;
      return r;
    }
    return null;
  }

  hold(socket, ms) {
    this.held.add(socket);
    socket.once('close', () => this.held.delete(socket));
    socket.once('end', () => socket.destroy()); // the client gave up
    if (ms) setTimeout(() => socket.destroy(), ms).unref();
  }
}

function matches(r, req) {
  if (r.method !== '*' && !r.method.includes(req.method)) return false;
  if (!r.re.test(req.path)) return false;
  if (r.query) {
    for (const [k, v] of Object.entries(r.query)) {
      if (!req.query.has(k)) return false;
      if (v !== true && req.query.get(k) !== String(v)) return false;
    }
  }
  return true;
}

function view(r) {
  const v = {};
  for (const [k, val] of Object.entries(r)) if (k !== 're' && val !== undefined) v[k] = val;
  return v;
}

module.exports = { FaultSet, FaultError, globRe };
