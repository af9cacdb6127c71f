'use strict';
// A test double's server: HTTP/1.1 (http1.js) over TCP or TLS (optionally
// requiring client certificates), the request log, the fault switches, and
// the admin endpoint under /__double/ (never logged, never faulted).  A
// double gives its name, its handler and its admin routes; README.md next to
// this file describes the whole API.

const net = require('net');
const tls = require('tls');
const fs = require('fs');
const { attach } = require('./http1');
const { FaultSet } = require('./faults');
const { RequestLog } = require('./reqlog');
const { Router } = require('./router');
const { sendJSON, readJSON, sleep } = require('./respond');

const ADMIN_PREFIX = '/__double';

const SERVER_USAGE = `  --host H                 listen address (127.0.0.1)
  --port N                 port (0 = any; the chosen port is printed as "NAME-double listening on PORT (http|https)")
  --port-file F            also write the port to F
  --tls-cert F --tls-key F serve HTTPS;  --tls-client-ca F  require client certificates signed by F (mTLS)
`;

// Takes the server options (SERVER_USAGE) out of argv: {server, rest}, rest
// being the double's own options in their order.
function splitServerArgs(argv) {
  const server = { host: '127.0.0.1', port: 0, portFile: null, tlsCert: null, tlsKey: null, tlsClientCa: null };
  const keys = { '--host': 'host', '--port': 'port', '--port-file': 'portFile', '--tls-cert': 'tlsCert', '--tls-key': 'tlsKey', '--tls-client-ca': 'tlsClientCa' };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (!(name in keys)) { rest.push(a); continue; }
    let v;
    if (name !== a) v = a.slice(eq + 1);
    else { if (i + 1 >= argv.length) throw new Error(`${name} needs a value`); v = argv[++i]; }
    server[keys[name]] = name === '--port' ? Number(v) : v;
  }
  if (!Number.isInteger(server.port) || server.port < 0 || server.port > 65535) throw new Error('--port must be a port number');
  if (!!server.tlsCert !== !!server.tlsKey) throw new Error('--tls-cert and --tls-key go together');
  if (server.tlsClientCa && !server.tlsCert) throw new Error('--tls-client-ca needs --tls-cert and --tls-key');
  return { server, rest };
}

function defaultErrorBody(status, message) {
  return { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ error: message }) + '\n' };
}

class Double {
  // options: name, handler(req, res), server (splitServerArgs' server), and
  // optionally expectContinue ('on-read' | 'immediate'), errorBody(status,
  // message, details) -> {headers, body}, logHeaders, secretHeaders,
  // secretQuery, logFields(req) -> {...}, admin {'METHOD /path': fn(req, res,
  // params)} (paths under /__double), onReset(), adminView() -> {...} (extra
  // fields of GET /__double/health).
  constructor(options) {
    this.name = options.name;
    this.handler = options.handler;
    this.serverOptions = Object.assign({ host: '127.0.0.1', port: 0 }, options.server || {});
    this.expectContinue = options.expectContinue || 'on-read';
    this.errorBody = options.errorBody || defaultErrorBody;
    this.onReset = options.onReset || null;
    this.faults = new FaultSet();
    this.log = new RequestLog({ logHeaders: options.logHeaders, secretHeaders: options.secretHeaders, secretQuery: options.secretQuery, fields: options.logFields });
    this.admin = new Router({ methodNotAllowed: (req, res) => this.sendError(res, 405, `${req.method} is not allowed on ${req.path}`) });
    for (const [key, fn] of Object.entries(options.admin || {})) {
      const sp = key.indexOf(' ');
      this.admin.add(key.slice(0, sp).split(','), ADMIN_PREFIX + key.slice(sp + 1), fn);
    }
    this._builtinAdmin();
    this.scheme = this.serverOptions.tlsCert ? 'https' : 'http';
    this.port = null;
    this.server = null;
  }

  _builtinAdmin() {
    const a = this.admin;
    const P = ADMIN_PREFIX;
    a.add('GET', `${P}/health`, (req, res) => sendJSON(res, 200, { double: this.name, ready: true, port: this.port, scheme: this.scheme }));
    a.add('GET', `${P}/log`, (req, res) => sendJSON(res, 200, { requests: this.log.list() }));
    a.add('DELETE', `${P}/log`, (req, res) => { this.log.clear(); res.send(204, {}, null); });
    a.add('GET', `${P}/faults`, (req, res) => sendJSON(res, 200, { faults: this.faults.list() }));
    a.add(['POST', 'PUT'], `${P}/faults`, async (req, res) => {
      const body = await readJSON(req, 4 * 1024 * 1024);
      const specs = body && !Array.isArray(body) && Array.isArray(body.faults) ? body.faults : body;
      sendJSON(res, 200, { faults: this.faults.add(specs) });
    });
    a.add('DELETE', `${P}/faults`, (req, res) => { this.faults.clear(); res.send(204, {}, null); });
    a.add('DELETE', `${P}/faults/:id`, (req, res, p) => {
      if (!this.faults.remove(Number(p.id))) return this.sendError(res, 404, `no fault rule ${p.id}`);
      return res.send(204, {}, null);
    });
    a.add('POST', `${P}/reset`, async (req, res) => {
      this.faults.clear();
      this.log.clear();
      if (this.onReset) await this.onReset();
      res.send(204, {}, null);
    });
  }

  sendError(res, status, message, details) {
    const e = this.errorBody(status, message, details || {});
    res.send(status, e.headers, e.body);
  }

  // Answer as a fault rule says: its json, its body, or the double's error body.
  _answer(rule, res) {
    const headers = Object.assign({}, rule.headers || {});
    if (rule.json !== undefined) return sendJSON(res, rule.status, rule.json, headers);
    if (rule.body !== undefined) {
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'text/plain; charset=utf-8';
      return res.send(rule.status, headers, rule.body);
    }
    const e = this.errorBody(rule.status, `injected fault (rule ${rule.id})`, { fault: true });
    return res.send(rule.status, Object.assign({}, e.headers, headers), e.body);
  }

  // Applies a fault rule; true when the fault answered (or will never answer)
  // and the double's handler must not run.
  async _applyFault(rule, req, res) {
    const discardBody = () => { req.body.on('error', () => {}); req.body.resume(); };
    switch (rule.action) {
      case 'status': this._answer(rule, res); return true;
      case 'delay':
        await sleep(rule.ms);
        if (rule.status !== undefined) { this._answer(rule, res); return true; }
        return false;
      case 'stall': discardBody(); this.faults.hold(req.socket, rule.ms); return true;
      case 'reset': discardBody(); req.resetAfterBodyBytes(rule.after_bytes); return true;
      case 'cut':
        res.cutAfter = rule.after_bytes;
        if (rule.status !== undefined) { this._answer(rule, res); return true; }
        return false;
      case 'flag': req.flags.add(rule.name); return false;
      default: return false;
    }
  }

  async _handle(req, res) {
    req.flags = new Set();
    try {
      if (req.path === ADMIN_PREFIX || req.path.startsWith(ADMIN_PREFIX + '/')) {
        if (!(await this.admin.handle(req, res))) this.sendError(res, 404, `no admin endpoint ${req.method} ${req.path}`);
        return;
      }
      const entry = this.log.record(req, res);
      const rule = this.faults.take(req);
      if (rule) {
        entry.fault = { id: rule.id, action: rule.action };
        if (await this._applyFault(rule, req, res)) return;
      }
      await this.handler(req, res);
    } catch (e) {
      if (res.finished) return;
      if (res.headersSent) { res.destroy(); return; }
      const status = Number.isInteger(e.status) ? e.status : 500;
      this.sendError(res, status, String(e && e.message || e), e.details);
    }
  }

  // Listen; resolves to the port once the readiness line is printed.
  listen() {
    const o = this.serverOptions;
    let server;
    if (o.tlsCert) {
      const t = { cert: fs.readFileSync(o.tlsCert), key: fs.readFileSync(o.tlsKey), minVersion: 'TLSv1.2', allowHalfOpen: true };
      if (o.tlsClientCa) Object.assign(t, { ca: fs.readFileSync(o.tlsClientCa), requestCert: true, rejectUnauthorized: true });
      server = tls.createServer(t);
      server.on('tlsClientError', () => {}); // a refused client certificate, a client giving up
    } else server = net.createServer({ allowHalfOpen: true });
    this.server = server;
    attach(server, (req, res) => this._handle(req, res), { expectContinue: this.expectContinue });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        this.port = server.address().port;
        if (o.portFile) fs.writeFileSync(o.portFile, String(this.port));
        process.stdout.write(`${this.name}-double listening on ${this.port} (${this.scheme})\n`);
        resolve(this.port);
      });
    });
  }

  // Run as a program: listen, stop on SIGTERM/SIGINT, exit 1 when the port
  // cannot be had (the harness then tries another).
  run() {
    const stop = () => { this.faults.clear(); this.server.close(); process.exit(0); };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    return this.listen().catch((e) => {
      process.stderr.write(`${this.name}-double: cannot listen on ${this.serverOptions.host}:${this.serverOptions.port}: ${e.code || e.message}\n`);
      process.exit(1);
    });
  }
}

function createDouble(options) { return new Double(options); }

module.exports = { createDouble, Double, splitServerArgs, SERVER_USAGE, ADMIN_PREFIX };
