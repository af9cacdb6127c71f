'use strict';
// Minimal HTTP/1.1 server connection handling on top of net/tls sockets.
// Node's http module rejects the method LIST with 400 before any handler runs,
// and Vault clients (curl -X LIST) send it, so requests are parsed here.
// Supports: any token method, Content-Length and chunked request bodies
// (streamed, with backpressure), Expect: 100-continue, keep-alive and
// pipelining, responses with Content-Length or chunked streaming.

const { PassThrough } = require('stream');

const REASONS = {
  100: 'Continue', 200: 'OK', 204: 'No Content', 307: 'Temporary Redirect',
  400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable',
};
const MAX_HEAD = 64 * 1024;
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function reason(code) { return REASONS[code] || `status code ${code}`; }

class Response {
  constructor(conn, req) {
    this.conn = conn;
    this.req = req;
    this.socket = conn.socket;
    this.headersSent = false;
    this.finished = false;
    this.chunked = false;
    this.status = 0;
    this.bodyBytes = 0; // payload bytes written (excluding chunk framing)
    this.onFinish = [];
  }

  _head(status, headers, extra) {
    this.status = status;
    const lines = [`HTTP/1.1 ${status} ${reason(status)}`];
    const h = Object.assign({}, headers || {});
    h['Date'] = new Date().toUTCString();
    if (!this.conn.keepAlive) h['Connection'] = 'close';
    Object.assign(h, extra || {});
    for (const [k, v] of Object.entries(h)) {
      if (v === undefined || v === null) continue;
      for (const vv of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${vv}`);
    }
    this.headersSent = true;
    return lines.join('\r\n') + '\r\n\r\n';
  }

  // Complete response with a fixed body (Buffer|string|null).
  send(status, headers, body) {
    if (this.finished) return;
    let buf = body == null ? Buffer.alloc(0) : (Buffer.isBuffer(body) ? body : Buffer.from(String(body)));
    const extra = {};
    const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
    if (!noBody) extra['Content-Length'] = String(buf.length);
    const head = this._head(status, headers, extra);
    if (noBody || this.req.method === 'HEAD') buf = Buffer.alloc(0);
    this.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), buf]));
    this.bodyBytes = buf.length;
    this._finish();
  }

  // Start a chunked streaming response.
  startStream(status, headers) {
    const head = this._head(status, headers, { 'Transfer-Encoding': 'chunked' });
    this.chunked = true;
    return this.socket.write(head, 'latin1');
  }

  write(chunk) {
    if (this.finished || this.socket.destroyed || chunk.length === 0) return true;
    this.bodyBytes += chunk.length;
    this.socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
    this.socket.write(chunk);
    return this.socket.write('\r\n', 'latin1');
  }

  end() {
    if (this.finished) return;
    if (this.chunked && !this.socket.destroyed) this.socket.write('0\r\n\r\n', 'latin1');
    this._finish();
  }

  // Abort: close the connection without finishing the body (what was written
  // is flushed first, then FIN; a stuck peer is reset after a second).
  destroy() {
    this.conn.keepAlive = false;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this._finish();
  }

  _finish() {
    if (this.finished) return;
    this.finished = true;
    for (const f of this.onFinish) { try { f(); } catch (e) { /* ignore */ } }
    this.conn._responseDone(this);
  }
}

class Connection {
  constructor(socket, handler) {
    this.socket = socket;
    this.handler = handler;
    this.buf = Buffer.alloc(0);
    this.phase = 'head';
    this.keepAlive = true;
    this.busy = false; // a response is outstanding
    this.body = null;
    this.closed = false;
    socket.on('data', (d) => { this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d; this._pump(); });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      if (this.body && !this.body.writableEnded) {
        // A handler that already answered (a 307, an injected 500) no longer
        // listens to the body; a client may then stop sending it, as curl does.
        // Without a listener the 'error' would end the whole double.
        if (this.body.listenerCount('error') === 0) this.body.on('error', () => {});
        this.body.destroy(new Error('connection closed before the request body was complete'));
      }
    });
    socket.on('end', () => { if (!this.busy) socket.end(); });
  }

  _fail(status, msg) {
    this.keepAlive = false;
    const body = JSON.stringify({ errors: [msg] }) + '\n';
    this.socket.end(`HTTP/1.1 ${status} ${reason(status)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    this.phase = 'dead';
  }

  _pump() {
    for (;;) {
      if (this.phase === 'dead') return;
      if (this.phase === 'head') {
        if (this.busy) return;
        // tolerate stray CRLFs between requests
        while (this.buf.length >= 2 && this.buf[0] === 13 && this.buf[1] === 10) this.buf = this.buf.subarray(2);
        const idx = this.buf.indexOf('\r\n\r\n');
        if (idx < 0) {
          if (this.buf.length > MAX_HEAD) this._fail(431, 'request header too large');
          return;
        }
        const head = this.buf.subarray(0, idx).toString('latin1');
        this.buf = this.buf.subarray(idx + 4);
        if (!this._startRequest(head)) return;
        continue;
      }
      if (this.phase === 'body') {
        if (!this._pumpBody()) return;
        continue;
      }
      if (this.phase === 'after-body') {
        if (this.busy) return;
        if (!this.keepAlive) return;
        this.phase = 'head';
        continue;
      }
      return;
    }
  }

  _startRequest(head) {
    const lines = head.split('\r\n');
    const m = /^([^ ]+) ([^ ]+) HTTP\/(\d)\.(\d)$/.exec(lines[0]);
    if (!m || !TOKEN_RE.test(m[1])) { this._fail(400, 'malformed request line'); return false; }
    const headers = {};
    const rawHeaders = [];
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i];
      const c = l.indexOf(':');
      if (c <= 0) { this._fail(400, 'malformed header line'); return false; }
      const name = l.slice(0, c).trim().toLowerCase();
      const value = l.slice(c + 1).trim();
      rawHeaders.push([name, value]);
      headers[name] = headers[name] !== undefined ? headers[name] + ', ' + value : value;
    }
    const httpMinor = Number(m[4]);
    const conn = (headers['connection'] || '').toLowerCase();
    if (Number(m[3]) === 1 && httpMinor === 0) this.keepAlive = conn.includes('keep-alive');
    else this.keepAlive = !conn.includes('close');

    let bodyMode = 'none';
    let remaining = 0;
    const te = (headers['transfer-encoding'] || '').toLowerCase();
    if (te) {
      if (!/(^|,)\s*chunked\s*$/.test(te)) { this._fail(501, 'unsupported transfer-encoding'); return false; }
      bodyMode = 'chunked';
    } else if (headers['content-length'] !== undefined) {
      if (!/^\d+$/.test(headers['content-length'])) { this._fail(400, 'bad content-length'); return false; }
      remaining = Number(headers['content-length']);
      bodyMode = remaining > 0 ? 'length' : 'none';
    }
    const target = m[2];
    const q = target.indexOf('?');
    const rawPath = q >= 0 ? target.slice(0, q) : target;
    let path;
    try { path = decodeURIComponent(rawPath); } catch (e) { path = rawPath; }
    const query = new URLSearchParams(q >= 0 ? target.slice(q + 1) : '');
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const req = {
      method: m[1], target, path, rawPath, query, headers, rawHeaders, body,
      bodyMode, httpVersion: `${m[3]}.${m[4]}`,
      remoteAddress: this.socket.remoteAddress,
      socket: this.socket,
      tlsPeerCert: typeof this.socket.getPeerCertificate === 'function' ? this.socket.getPeerCertificate() : null,
    };
    this.body = body;
    this.bodyMode = bodyMode;
    this.remaining = remaining;
    this.chunkState = 'size';
    this.phase = 'body';
    this.busy = true;
    if ((headers['expect'] || '').toLowerCase() === '100-continue' && bodyMode !== 'none') {
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    }
    const res = new Response(this, req);
    this.current = { req, res };
    Promise.resolve().then(() => this.handler(req, res)).catch((err) => {
      if (!res.headersSent) {
        res.send(500, { 'Content-Type': 'application/json' }, JSON.stringify({ errors: [String(err && err.message || err)] }) + '\n');
      } else if (!res.finished) res.destroy();
    });
    return true;
  }

  _writeBody(chunk) {
    if (chunk.length === 0) return;
    if (this.body.destroyed) return;
    if (!this.body.write(chunk)) {
      this.socket.pause();
      this.body.once('drain', () => this.socket.resume());
    }
  }

  _endBody() {
    if (!this.body.destroyed) this.body.end();
    this.phase = 'after-body';
  }

  // returns true if progress was made and the loop should continue
  _pumpBody() {
    if (this.bodyMode === 'none') { this._endBody(); return true; }
    if (this.bodyMode === 'length') {
      const n = Math.min(this.remaining, this.buf.length);
      if (n > 0) {
        this._writeBody(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        this.remaining -= n;
      }
      if (this.remaining === 0) { this._endBody(); return true; }
      return false;
    }
    // chunked
    for (;;) {
      if (this.chunkState === 'size') {
        const idx = this.buf.indexOf('\r\n');
        if (idx < 0) { if (this.buf.length > 4096) this._fail(400, 'bad chunk size line'); return false; }
        const line = this.buf.subarray(0, idx).toString('latin1').split(';')[0].trim();
        this.buf = this.buf.subarray(idx + 2);
        if (!/^[0-9a-fA-F]+$/.test(line)) { this._fail(400, 'bad chunk size'); return false; }
        this.remaining = parseInt(line, 16);
        this.chunkState = this.remaining === 0 ? 'trailer' : 'data';
      } else if (this.chunkState === 'data') {
        const n = Math.min(this.remaining, this.buf.length);
        if (n > 0) {
          this._writeBody(this.buf.subarray(0, n));
          this.buf = this.buf.subarray(n);
          this.remaining -= n;
        }
        if (this.remaining > 0) return false;
        this.chunkState = 'crlf';
      } else if (this.chunkState === 'crlf') {
        if (this.buf.length < 2) return false;
        if (this.buf[0] !== 13 || this.buf[1] !== 10) { this._fail(400, 'bad chunk terminator'); return false; }
        this.buf = this.buf.subarray(2);
        this.chunkState = 'size';
      } else if (this.chunkState === 'trailer') {
        const idx = this.buf.indexOf('\r\n');
        if (idx < 0) return false;
        const line = this.buf.subarray(0, idx);
        this.buf = this.buf.subarray(idx + 2);
        if (line.length === 0) { this._endBody(); return true; }
      }
    }
  }

  _responseDone(res) {
    this.busy = false;
    // discard any request body the handler did not consume
    if (this.body && !this.body.readableEnded && !this.body.destroyed) this.body.resume();
    if (!this.keepAlive) {
      if (!this.socket.destroyed) this.socket.end();
      return;
    }
    setImmediate(() => this._pump());
  }
}

function attach(server, handler) {
  const ev = server.constructor.name === 'Server' && typeof server.addContext === 'function' ? 'secureConnection' : 'connection';
  server.on(ev, (socket) => new Connection(socket, handler));
}

module.exports = { Connection, Response, attach, reason };
