'use strict';
// Response and request-body helpers for the doubles.

const xml = require('./xml');

// An error a handler throws to answer status with message; double.js turns
// it into the double's error body (options.errorBody).  details: anything
// the double's errorBody wants (an S3 error Code, a Kubernetes reason).
class HttpError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details || {};
  }
}

function sendJSON(res, status, obj, headers) {
  res.send(status, Object.assign({ 'Content-Type': 'application/json' }, headers || {}), JSON.stringify(obj) + '\n');
}

// sendXML(res, 200, 'ListBucketResult', {Name: 'b', Contents: [...]}, {xmlns, headers})
function sendXML(res, status, root, obj, options) {
  const o = options || {};
  res.send(status, Object.assign({ 'Content-Type': 'application/xml' }, o.headers || {}), xml.build(root, obj, { xmlns: o.xmlns }));
}

function sendText(res, status, text, headers) {
  res.send(status, Object.assign({ 'Content-Type': 'text/plain; charset=utf-8' }, headers || {}), text);
}

function sendEmpty(res, status, headers) { res.send(status || 204, headers || {}, null); }

// The whole request body as a Buffer (413 HttpError beyond limit bytes).
function readBody(req, limit) {
  const max = limit || 32 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const parts = [];
    let n = 0;
    req.body.on('data', (d) => { n += d.length; if (n <= max) parts.push(d); });
    req.body.on('end', () => (n > max ? reject(new HttpError(413, 'request body too large')) : resolve(Buffer.concat(parts))));
    req.body.on('error', reject);
  });
}

// The body parsed as JSON; an empty body is {} (400 HttpError if malformed).
async function readJSON(req, limit) {
  const b = await readBody(req, limit);
  if (!b.toString('utf8').trim()) return {};
  try { return JSON.parse(b.toString('utf8')); } catch (e) { throw new HttpError(400, `malformed JSON body: ${e.message}`, { code: 'MalformedJSON' }); }
}

// The body parsed as XML (xml.parse's root node; 400 HttpError if malformed).
async function readXML(req, limit) {
  const b = await readBody(req, limit);
  try { return xml.parse(b.toString('utf8')); } catch (e) { throw new HttpError(400, `malformed XML body: ${e.message}`, { code: 'MalformedXML' }); }
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

module.exports = { HttpError, sendJSON, sendXML, sendText, sendEmpty, readBody, readJSON, readXML, sleep };
