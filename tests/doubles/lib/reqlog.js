'use strict';
// The request log of a double: what tests read back (GET /__double/log) to
// prove what a client sent, without ever holding a secret.  A secret header
// (a token, a password, a signature) is logged as present or absent, never
// with its value; secret query parameters (presigned URLs' signatures) are
// logged as "(redacted)".

const DEFAULT_SECRET_HEADERS = [
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-vault-token', 'x-amz-security-token',
  'x-amz-server-side-encryption-customer-key', 'x-amz-copy-source-server-side-encryption-customer-key', 'x-api-key',
];
const DEFAULT_SECRET_QUERY = ['x-amz-signature', 'x-amz-security-token', 'x-amz-credential', 'signature', 'access_token', 'token'];
const REDACTED = '(redacted)';
const MAX_ENTRIES = 10000;

class RequestLog {
  // options: logHeaders (names whose values are recorded), secretHeaders and
  // secretQuery (added to the defaults), fields(req) -> extra fields.
  constructor(options) {
    const o = options || {};
    this.secretHeaders = [...new Set([...DEFAULT_SECRET_HEADERS, ...(o.secretHeaders || []).map((h) => h.toLowerCase())])];
    this.secretQuery = new Set([...DEFAULT_SECRET_QUERY, ...(o.secretQuery || []).map((q) => q.toLowerCase())]);
    this.logHeaders = (o.logHeaders || []).map((h) => h.toLowerCase()).filter((h) => !this.secretHeaders.includes(h));
    this.fields = o.fields || null;
    this.entries = [];
    this.seq = 0;
  }

  redactQuery(req) {
    const q = req.target.indexOf('?');
    if (q < 0) return '';
    const raw = req.target.slice(q + 1);
    return raw.split('&').map((kv) => {
      const e = kv.indexOf('=');
      let name = e < 0 ? kv : kv.slice(0, e);
      try { name = decodeURIComponent(name); } catch (err) { /* keep it raw */ }
      return this.secretQuery.has(name.toLowerCase()) ? `${e < 0 ? kv : kv.slice(0, e)}=${REDACTED}` : kv;
    }).join('&');
  }

  // A new entry for req; res's end fills in status, bytes and duration.
  record(req, res) {
    const headers = {};
    for (const h of this.logHeaders) if (req.headers[h] !== undefined) headers[h] = req.headers[h];
    const secrets = {};
    for (const h of this.secretHeaders) secrets[h] = req.headers[h] !== undefined;
    const cert = req.tlsPeerCert && req.tlsPeerCert.subject ? req.tlsPeerCert : null;
    const entry = {
      seq: ++this.seq, time: new Date().toISOString(), method: req.method, path: req.path, query: this.redactQuery(req),
      connection: req.connection.id, connection_request: req.connection.request,
      headers, secrets,
      content_length: req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : null,
      chunked: req.bodyMode === 'chunked', expect_continue: req.expectContinue,
      client_cert: !!cert, client_cert_cn: cert ? (cert.subject.CN || null) : null,
      fault: null, status: null, response_bytes: null, body_bytes: null, duration_ms: null, aborted: false,
    };
    if (this.fields) Object.assign(entry, this.fields(req));
    this.entries.push(entry);
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    const t0 = Date.now();
    // A request that never got a whole answer (a stall, a reset) ends with its connection.
    const done = () => {
      req.socket.off('close', done);
      if (entry.duration_ms !== null) return;
      entry.status = res.headersSent ? res.status : null;
      entry.response_bytes = res.bodyBytes;
      entry.body_bytes = req.bodyBytesReceived;
      entry.duration_ms = Date.now() - t0;
      entry.aborted = res.aborted || !res.finished;
    };
    res.onFinish.push(done);
    req.socket.on('close', done);
    return entry;
  }

  clear() { this.entries = []; }
  list() { return this.entries; }
}

module.exports = { RequestLog, DEFAULT_SECRET_HEADERS, DEFAULT_SECRET_QUERY, REDACTED };
