'use strict';
// Request routing for the doubles: method + path pattern (+ required query
// parameters) -> handler.  First matching route wins, so put the specific
// ones (a query subresource such as "?uploads") before the general ones.
//
//   const r = new Router();
//   r.add('GET', '/objects/:name', (req, res, p) => ...);          p.name
//   r.add(['PUT', 'POST'], '/:bucket/*key', h, { query: ['uploadId'] }); p.bucket, p.key
//   r.add('*', '/echo/*rest', h);                                  any method
//   if (!(await r.handle(req, res))) ... // no route: answer 404 yourself
//
// ":name" matches one path segment, "*name" the rest of the path (possibly
// empty, slashes included); both are percent-decoded.  A path that matches a
// route for other methods only is answered by options.methodNotAllowed(req,
// res, allowed) (default: 405 with an Allow header).

class Router {
  constructor(options) {
    this.routes = [];
    this.methodNotAllowed = (options && options.methodNotAllowed) || ((req, res, allowed) => {
      res.send(405, { Allow: allowed.join(', '), 'Content-Type': 'text/plain' }, `method ${req.method} not allowed on ${req.path}\n`);
    });
  }

  add(methods, pattern, handler, options) {
    const list = (Array.isArray(methods) ? methods : [methods]).map((m) => m.toUpperCase());
    const names = [];
    const re = pattern.split('/').map((seg) => {
      if (seg.startsWith(':')) { names.push(seg.slice(1)); return '([^/]+)'; }
      if (seg.startsWith('*')) { names.push(seg.slice(1) || 'rest'); return '(.*)'; }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }).join('/').replace(/\/\(\.\*\)$/, '(?:/(.*))?');
    this.routes.push({ methods: list, pattern, re: new RegExp('^' + re + '$'), names, handler, query: (options && options.query) || [] });
    return this;
  }

  // {route, params} for the request, or {allowed: [...]} when only the
  // method is wrong, or null.
  match(req) {
    const allowed = new Set();
    for (const r of this.routes) {
      const m = r.re.exec(req.rawPath);
      if (!m) continue;
      if (!r.query.every((q) => req.query.has(q))) continue;
      if (!r.methods.includes('*') && !r.methods.includes(req.method)) { r.methods.forEach((x) => allowed.add(x)); continue; }
      const params = {};
      r.names.forEach((n, k) => {
        const v = m[k + 1] === undefined ? '' : m[k + 1];
        try { params[n] = decodeURIComponent(v); } catch (e) { params[n] = v; }
      });
      return { route: r, params };
    }
    return allowed.size ? { allowed: [...allowed] } : null;
  }

  // Route the request; false when no route matched its path.
  async handle(req, res) {
    const m = this.match(req);
    if (!m) return false;
    if (m.allowed) { await this.methodNotAllowed(req, res, m.allowed); return true; }
    req.params = m.params;
    await m.route.handler(req, res, m.params);
    return true;
  }
}

module.exports = { Router };
