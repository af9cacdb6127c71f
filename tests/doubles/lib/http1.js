'use strict';
// HTTP/1.1 server connections on raw net/tls sockets, for the test doubles.
// Node's http module answers 400 to a method it does not know (Vault's LIST)
// before any handler runs, and hides the framing a double must control (when
// 100 Continue goes out, a connection reset in the middle of a request body,
// a response cut after N bytes), so requests are parsed here.
//
// Supports: any token method; Content-Length and chunked request bodies
// (chunk extensions and trailers accepted), streamed with backpressure;
// Expect: 100-continue, sent when the handler first reads the body ('on-read',
// as Go's net/http and S3 do) or as soon as the head is parsed ('immediate');
// keep-alive (HTTP/1.1 default, HTTP/1.0 with "Connection: keep-alive") and
// pipelining; responses with Content-Length or chunked streaming.

const { Readable } = require('stream');

const REASONS = {
  100: 'Continue', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content',
  301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 422: 'Unprocessable Entity',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
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
    this.aborted = false; // the connection was closed before the response was complete
    this.chunked = false;
    this.status = 0;
    this.bodyBytes = 0; // payload bytes written (excluding chunk framing)
    this.cutAfter = null; // a fault: close the connection after this many body bytes
    this.onFinish = [];
  }

  _head(status, headers, extra) {
    this.status = status;
    // The client still waits for 100 Continue and has not sent the body: the
    // connection cannot be reused (it may or may not send the body now).
    if (this.conn.continuePending) this.conn.keepAlive = false;
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
    if (!noBody && !(headers && Object.keys(headers).some((k) => k.toLowerCase() === 'content-length'))) {
      extra['Content-Length'] = String(buf.length);
    }
    const head = this._head(status, headers, extra);
    if (noBody || this.req.method === 'HEAD') buf = Buffer.alloc(0);
    if (this.cutAfter != null && buf.length > this.cutAfter) {
      this.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), buf.subarray(0, this.cutAfter)]));
      this.bodyBytes = this.cutAfter;
      this.destroy();
      return;
    }
    this.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), buf]));
    this.bodyBytes = buf.length;
    this._finish();
  }

  // Start a chunked streaming response; then write() and end().
  startStream(status, headers) {
    const head = this._head(status, headers, { 'Transfer-Encoding': 'chunked' });
    this.chunked = true;
    return this.socket.write(head, 'latin1');
  }

  // Start a streaming response of a known length (Content-Length given by
  // the caller); then write() raw bytes and end().
  startFixed(status, headers, length) {
    const head = this._head(status, Object.assign({}, headers, { 'Content-Length': String(length) }));
    return this.socket.write(head, 'latin1');
  }

  write(chunk) {
    if (this.finished || this.socket.destroyed || chunk.length === 0) return true;
    if (typeof chunk === 'string') chunk = Buffer.from(chunk);
    let cut = false;
    if (this.cutAfter != null && this.bodyBytes + chunk.length >= this.cutAfter) {
      chunk = chunk.subarray(0, this.cutAfter - this.bodyBytes);
      cut = true;
    }
    this.bodyBytes += chunk.length;
    let ok = true;
    if (chunk.length) {
      if (this.chunked) {
        this.socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
        this.socket.write(chunk);
        ok = this.socket.write('\r\n', 'latin1');
      } else ok = this.socket.write(chunk);
    }
    if (cut) { this.destroy(); return false; }
    return ok;
  }

  end() {
    if (this.finished) return;
    if (this.chunked && !this.socket.destroyed) this.socket.write('0\r\n\r\n', 'latin1');
    this._finish();
  }

  // Abort: close the connection without finishing the body (what was written
  // is flushed first, then FIN; a stuck peer is reset after a second).
  destroy() {
    if (this.finished) return;
    this.aborted = true;
    this.conn.keepAlive = false;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this._finish();
  }

  // Abort with a TCP reset (RST) at once, nothing flushed.
  reset() {
    if (this.finished) return;
    this.aborted = true;
    this.conn.reset();
    this._finish();
  }

  _finish() {
    if (this.finished) return;
    this.finished = true;
    for (const f of this.onFinish) { try { f(); } catch (e) { /* a log hook must not break the connection */ } }
    this.conn._responseDone(this);
  }
}

let connectionCount = 0;

class Connection {
  // options.expectContinue: 'on-read' (default) | 'immediate'
  constructor(socket, handler, options) {
    this.socket = socket;
    this.handler = handler;
    this.options = options || {};
    this.id = ++connectionCount;
    this.requestCount = 0;
    this.buf = Buffer.alloc(0);
    this.phase = 'head';
    this.keepAlive = true;
    this.busy = false; // a response is outstanding
    this.body = null;
    this.closed = false;
    this.peerEnded = false;
    this.continuePending = false;
    socket.on('data', (d) => { this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d; this._pump(); });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      if (this.body && !this.body.readableEnded && !this.body.destroyed) {
        // A handler that already answered (a 307, an injected 500) no longer
        // listens to the body; a client may then stop sending it, as curl does.
        // Without a listener the 'error' would end the whole double.
        if (this.body.listenerCount('error') === 0) this.body.on('error', () => {});
        this.body.destroy(new Error('connection closed before the request body was complete'));
      }
    });
    // The client half-closed (FIN): answer what it sent, then close.  (The
    // server is created with allowHalfOpen, or Node would close at once and
    // drop the answer.)
    socket.on('end', () => {
      this.peerEnded = true;
      if (this.phase === 'body') {
        this.keepAlive = false;
        if (!this.body.destroyed && !this.body.readableEnded) {
          if (this.body.listenerCount('error') === 0) this.body.on('error', () => {});
          this.body.destroy(new Error('the client ended the connection before the request body was complete'));
        }
      }
      if (!this.busy) this._pump();
    });
  }

  reset() {
    this.keepAlive = false;
    this.phase = 'dead';
    // A TLS socket's own handle cannot send a reset: the TCP socket under it can.
    const tcp = this.socket._parent && this.socket._parent._handle ? this.socket._parent : this.socket;
    try {
      tcp.resetAndDestroy();
    } catch (e) { /* no TCP handle left */ }
    this.socket.destroy();
  }

  _fail(status, msg) {
    this.keepAlive = false;
    const body = JSON.stringify({ errors: [msg] }) + '\n';
    this.socket.end(`HTTP/1.1 ${status} ${reason(status)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    this.phase = 'dead';
    if (this.body && !this.body.destroyed) {
      if (this.body.listenerCount('error') === 0) this.body.on('error', () => {});
      this.body.destroy(new Error(msg));
    }
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
          else if (this.peerEnded) { this.phase = 'dead'; this.socket.end(); }
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

  _parseHead(head) {
    const lines = head.split('\r\n');
    const m = /^([^ ]+) ([^ ]+) HTTP\/(\d)\.(\d)$/.exec(lines[0]);
    if (!m || !TOKEN_RE.test(m[1])) return { error: 'malformed request line' };
    const headers = {};
    const rawHeaders = [];
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i];
      const c = l.indexOf(':');
      if (c <= 0 || !TOKEN_RE.test(l.slice(0, c))) return { error: 'malformed header line' };
      const name = l.slice(0, c).toLowerCase();
      const value = l.slice(c + 1).trim();
      rawHeaders.push([name, value]);
      headers[name] = headers[name] !== undefined ? headers[name] + ', ' + value : value;
    }
    return { method: m[1], target: m[2], major: Number(m[3]), minor: Number(m[4]), headers, rawHeaders };
  }

  _startRequest(head) {
    const h = this._parseHead(head);
    if (h.error) { this._fail(400, h.error); return false; }
    const { headers, rawHeaders } = h;
    const conn = (headers['connection'] || '').toLowerCase();
    if (h.major === 1 && h.minor === 0) this.keepAlive = conn.includes('keep-alive');
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
    const target = h.target;
    const q = target.indexOf('?');
    const rawPath = q >= 0 ? target.slice(0, q) : target;
    let path;
    try { path = decodeURIComponent(rawPath); } catch (e) { path = rawPath; }
    const query = new URLSearchParams(q >= 0 ? target.slice(q + 1) : '');
    const expectContinue = (headers['expect'] || '').toLowerCase() === '100-continue' && bodyMode !== 'none';
    this.requestCount++;
    this.continuePending = false;
    const body = new Readable({
      highWaterMark: 1 << 20,
      read: () => {
        // The handler wants the body: now is the time for 100 Continue.
        if (this.continuePending && !(this.current && this.current.res.headersSent)) this._sendContinue();
        if (this.socket.isPaused()) this.socket.resume();
      },
    });
    const req = {
      method: h.method, target, path, rawPath, query, headers, rawHeaders, body,
      bodyMode, httpVersion: `${h.major}.${h.minor}`, expectContinue,
      bodyBytesReceived: 0,
      remoteAddress: this.socket.remoteAddress,
      socket: this.socket,
      connection: { id: this.id, request: this.requestCount },
      tlsPeerCert: typeof this.socket.getPeerCertificate === 'function' ? this.socket.getPeerCertificate() : null,
      // A fault: reset the connection (RST) once n request body bytes have
      // arrived (or when the body ends, if it is shorter).
      resetAfterBodyBytes: (n) => { this.resetAt = n; this._checkReset(); },
    };
    this.body = body;
    this.bodyMode = bodyMode;
    this.remaining = remaining;
    this.chunkState = 'size';
    this.resetAt = null;
    this.phase = 'body';
    this.busy = true;
    this.currentReq = req;
    if (expectContinue) {
      this.continuePending = true;
      if (this.options.expectContinue === 'immediate') this._sendContinue();
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

  _sendContinue() {
    this.continuePending = false;
    if (!this.socket.destroyed) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  }

  _checkReset() {
    if (this.resetAt == null || this.phase === 'dead') return false;
    if (this.currentReq.bodyBytesReceived >= this.resetAt || this.phase === 'after-body') {
      this.reset();
      return true;
    }
    return false;
  }

  _writeBody(chunk) {
    if (chunk.length === 0) return;
    this.currentReq.bodyBytesReceived += chunk.length;
    if (this.body.destroyed) return;
    if (!this.body.push(chunk)) this.socket.pause();
  }

  _endBody() {
    if (!this.body.destroyed) this.body.push(null);
    this.phase = 'after-body';
    this.continuePending = false;
  }

  // returns true if progress was made and the loop should continue
  _pumpBody() {
    const progressed = this._pumpBodyFraming();
    if (this._checkReset()) return false;
    return progressed;
  }

  _pumpBodyFraming() {
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
        if (!/^[0-9a-fA-F]{1,15}$/.test(line)) { this._fail(400, 'bad chunk size'); return false; }
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
        if (idx < 0) { if (this.buf.length > MAX_HEAD) this._fail(431, 'trailer too large'); return false; }
        const line = this.buf.subarray(0, idx);
        this.buf = this.buf.subarray(idx + 2);
        if (line.length === 0) { this._endBody(); return true; }
      }
    }
  }

  _responseDone() {
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

// Serve HTTP/1.1 on a net.Server or tls.Server: handler(req, res) per request.
function attach(server, handler, options) {
  const ev = typeof server.addContext === 'function' ? 'secureConnection' : 'connection';
  server.on(ev, (socket) => new Connection(socket, handler, options));
}

module.exports = { Connection, Response, attach, reason };
