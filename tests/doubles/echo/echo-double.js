#!/usr/bin/env node
'use strict';
// The echo double: the smallest double on tests/doubles/lib, the subject of
// the library's own conformance test (tests/integration/test_double_lib.sh)
// and a template for a new double.  It says back what it received, stores
// bodies, and streams bytes, so a test can see every framing and fault case
// from the client's side.
//
//   <any method> /echo/<anything>  200 JSON: what the request looked like
//   PUT /objects/<name>            store the body (201; ETag = its MD5)
//   GET|HEAD /objects/<name>       the stored body, with Content-Length (404 if none)
//   DELETE /objects/<name>         204
//   GET /stream/<n>                n bytes, chunked, in 16 KiB chunks
//   GET /xml                       an XML document (sendXML)
//   POST /xml                      the XML body parsed (readXML), as JSON
//
// Options: the library's server options (--port, --tls-cert ...).

const crypto = require('crypto');
const lib = require('../lib');

function usage() {
  return `usage: echo-double.js [options]\n${lib.SERVER_USAGE}`;
}

function parseArgs(argv) {
  const { server, rest } = lib.splitServerArgs(argv);
  for (const a of rest) {
    if (a === '-h' || a === '--help') { process.stdout.write(usage()); process.exit(0); }
    throw new Error(`unknown option ${a}\n${usage()}`);
  }
  return { server };
}

// What a request looked like, secret headers only as present or absent.
async function describe(req, dbl) {
  const body = await lib.readBody(req);
  const headers = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = dbl.log.secretHeaders.includes(k) ? '(present)' : v;
  return {
    method: req.method, path: req.path, raw_path: req.rawPath, params: req.params, query: Object.fromEntries(req.query),
    http_version: req.httpVersion, headers, chunked: req.bodyMode === 'chunked', expect_continue: req.expectContinue,
    body_bytes: body.length, body_sha256: crypto.createHash('sha256').update(body).digest('hex'),
    flags: [...req.flags], connection: req.connection,
  };
}

function build(opts) {
  const objects = new Map();
  const r = new lib.Router();
  let dbl = null;
  r.add('*', '/echo/*rest', async (req, res) => lib.sendJSON(res, 200, await describe(req, dbl)));
  r.add('PUT', '/objects/:name', async (req, res, p) => {
    const body = await lib.readBody(req, 256 * 1024 * 1024);
    const etag = crypto.createHash('md5').update(body).digest('hex');
    objects.set(p.name, { body, etag });
    lib.sendJSON(res, 201, { name: p.name, bytes: body.length, etag }, { ETag: `"${etag}"` });
  });
  r.add(['GET', 'HEAD'], '/objects/:name', (req, res, p) => {
    const o = objects.get(p.name);
    if (!o) throw new lib.HttpError(404, `no object ${p.name}`);
    res.send(200, { 'Content-Type': 'application/octet-stream', ETag: `"${o.etag}"`, 'Content-Length': String(o.body.length) }, o.body);
  });
  r.add('DELETE', '/objects/:name', (req, res, p) => { objects.delete(p.name); lib.sendEmpty(res, 204); });
  r.add('GET', '/stream/:n', async (req, res, p) => {
    let left = Number(p.n);
    if (!Number.isInteger(left) || left < 0) throw new lib.HttpError(400, 'n must be a byte count');
    res.startStream(200, { 'Content-Type': 'application/octet-stream' });
    const piece = Buffer.alloc(16384, 'x');
    while (left > 0 && !res.finished) {
      const n = Math.min(left, piece.length);
      if (!res.write(piece.subarray(0, n))) await new Promise((ok) => setImmediate(ok));
      left -= n;
    }
    res.end();
  });
  r.add('GET', '/xml', (req, res) => lib.sendXML(res, 200, 'ListAllMyBucketsResult', {
    Owner: { ID: 'echo', DisplayName: 'echo & co' },
    Buckets: { Bucket: [{ Name: 'a', CreationDate: '2026-01-01T00:00:00.000Z' }, { Name: 'b<c>', CreationDate: '2026-01-02T00:00:00.000Z' }] },
  }, { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' }));
  r.add('POST', '/xml', async (req, res) => {
    const root = await lib.readXML(req);
    const plain = (n) => ({ name: n.local, attrs: n.attrs, text: n.text, children: n.children.map(plain) });
    lib.sendJSON(res, 200, plain(root));
  });

  dbl = lib.createDouble({
    name: 'echo',
    server: opts.server,
    logHeaders: ['content-type', 'user-agent', 'x-request-id'],
    handler: async (req, res) => {
      if (!(await r.handle(req, res))) throw new lib.HttpError(404, `no route for ${req.method} ${req.path}`);
    },
    onReset: () => objects.clear(),
  });
  return dbl;
}

if (require.main === module) {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { process.stderr.write(`${e.message}\n`); process.exit(2); }
  build(opts).run();
}
module.exports = { build, parseArgs };
