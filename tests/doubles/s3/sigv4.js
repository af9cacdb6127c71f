'use strict';
// AWS Signature Version 4 verification of the Authorization header, written
// from the AWS documentation ("Signature Version 4 signing process", and the
// S3 API Reference's "Authenticating Requests (AWS Signature Version 4)":
// "Signature calculations for the Authorization header"):
//
//   CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n
//                      CanonicalHeaders \n SignedHeaders \n HashedPayload
//   StringToSign     = "AWS4-HMAC-SHA256" \n X-Amz-Date \n Scope \n hex(SHA256(CanonicalRequest))
//   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, yyyymmdd), region), "s3"), "aws4_request")
//   Signature        = hex(HMAC(SigningKey, StringToSign))
//
// S3's own rules: the canonical URI is the decoded path URI-encoded once
// (each byte but A-Z a-z 0-9 - . _ ~ and "/" as %XX, upper-case hex; no
// normalisation); query names and values are decoded and encoded the same
// way ("/" too), sorted by name then value; HashedPayload is the
// x-amz-content-sha256 header, which S3 requires on every signed request.

const crypto = require('crypto');
const { s3err } = require('./s3xml');

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;

// UriEncode of the AWS documentation, over the string's UTF-8 bytes.
function uriEncode(str, keepSlash) {
  let out = '';
  for (const b of Buffer.from(str, 'utf8')) {
    const unreserved = (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) ||
      b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    if (unreserved || (keepSlash && b === 0x2f)) out += String.fromCharCode(b);
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// A query component as S3 reads it: "+" is a space, %XX a byte (lenient:
// a stray "%" stays as it is).
function decodeQueryComponent(s) {
  const t = s.replace(/\+/g, ' ');
  try { return decodeURIComponent(t); } catch (e) { return t; }
}

function canonicalQuery(target, omit) {
  const q = target.indexOf('?');
  if (q < 0) return '';
  const pairs = [];
  for (const part of target.slice(q + 1).split('&')) {
    if (part === '') continue;
    const e = part.indexOf('=');
    const name = decodeQueryComponent(e < 0 ? part : part.slice(0, e));
    const value = e < 0 ? '' : decodeQueryComponent(part.slice(e + 1));
    if (omit && name === omit) continue;
    pairs.push([uriEncode(name, false), uriEncode(value, false)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

// The signed headers' canonical form: "name:value\n" each, values trimmed
// with runs of spaces made one, repeated headers joined by ",".
function canonicalHeaders(rawHeaders, names) {
  const byName = new Map();
  for (const [n, v] of rawHeaders) {
    if (!byName.has(n)) byName.set(n, []);
    byName.get(n).push(v.trim().replace(/[ \t]+/g, ' '));
  }
  return names.map((n) => `${n}:${(byName.get(n) || []).join(',')}\n`).join('');
}

function hmac(key, data) { return crypto.createHmac('sha256', key).update(data, 'utf8').digest(); }
function sha256hex(data) { return crypto.createHash('sha256').update(data).digest('hex'); }
function signingKey(secret, date, region, service) {
  return hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
}
function spacedHex(s) { return Buffer.from(s, 'utf8').toString('hex').replace(/(..)(?!$)/g, '$1 '); }

// "20130524T000000Z" -> ms, or NaN
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}
function amzDate(ms) { return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); }

function malformed(detail, fields) {
  return s3err('AuthorizationHeaderMalformed', fields || [], `The authorization header is malformed; ${detail}`);
}

// The parts of "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=hex".
function parseAuthorization(value) {
  if (!value.startsWith(ALGORITHM + ' ')) {
    throw s3err('InvalidRequest', [], 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  }
  const fields = {};
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const p = part.trim();
    const e = p.indexOf('=');
    if (e > 0) fields[p.slice(0, e)] = p.slice(e + 1);
  }
  if (!fields.Credential) throw malformed('missing Credential.');
  if (!fields.SignedHeaders) throw malformed('missing SignedHeaders.');
  if (!fields.Signature) throw malformed('missing Signature.');
  const cred = fields.Credential.split('/');
  if (cred.length !== 5) {
    throw malformed('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  return {
    accessKey: cred[0], date: cred[1], region: cred[2], service: cred[3], terminator: cred[4],
    scope: cred.slice(1).join('/'), signedHeaders: fields.SignedHeaders.split(';'), signature: fields.Signature,
  };
}

// The access key id an Authorization header names, or null (for the log).
function accessKeyOf(headers) {
  const m = /Credential=([^/,\s]+)\//.exec(headers.authorization || '');
  return m ? m[1] : null;
}

// Verify a request against the configured credentials: {accessKey, secretKey,
// sessionToken, region}.  canonicalPath is the request's path decoded and
// UriEncode'd again (see above).  Throws the S3Error AWS answers with.
function verify(req, creds, canonicalPath, nowMs) {
  const h = req.headers;
  if (h.authorization === undefined) {
    if (req.query.has('X-Amz-Algorithm')) throw s3err('NotImplemented', [['Header', 'X-Amz-Algorithm']], 'The S3 double does not implement presigned (query string) authentication');
    throw s3err('AccessDenied');
  }
  const a = parseAuthorization(h.authorization);
  if (a.accessKey !== creds.accessKey) throw s3err('InvalidAccessKeyId', [['AWSAccessKeyId', a.accessKey]]);
  const dateHeader = h['x-amz-date'] !== undefined ? h['x-amz-date'] : null;
  let requestMs = dateHeader !== null ? parseAmzDate(dateHeader) : (h.date ? Date.parse(h.date) : NaN);
  if (Number.isNaN(requestMs)) throw s3err('AccessDenied', [], 'AWS authentication requires a valid Date or x-amz-date header');
  const stamp = dateHeader !== null ? dateHeader : amzDate(requestMs);
  if (a.terminator !== 'aws4_request') throw s3err('SignatureDoesNotMatch', [], "Credential should be scoped with a valid terminator: 'aws4_request', not '" + a.terminator + "'.");
  if (a.service !== 's3') throw s3err('SignatureDoesNotMatch', [], "Credential should be scoped to correct service: 's3'. ");
  if (a.region !== creds.region) {
    throw malformed(`the region '${a.region}' is wrong; expecting '${creds.region}'`, [['Region', creds.region]]);
  }
  if (a.date !== stamp.slice(0, 8)) {
    throw s3err('SignatureDoesNotMatch', [], `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${a.date}' != '${stamp.slice(0, 8)}', from '${stamp}'.`);
  }
  if (Math.abs(nowMs - requestMs) > MAX_SKEW_MS) {
    throw s3err('RequestTimeTooSkewed', [['RequestTime', dateHeader !== null ? dateHeader : h.date], ['ServerTime', new Date(nowMs).toISOString()],
      ['MaxAllowedSkewMilliseconds', String(MAX_SKEW_MS)]]);
  }
  const signed = new Set(a.signedHeaders);
  const unsigned = ['host', ...Object.keys(h).filter((n) => n.startsWith('x-amz-'))].filter((n) => h[n] !== undefined && !signed.has(n));
  if (unsigned.length) {
    throw s3err('AccessDenied', [['HeadersNotSigned', unsigned.join(', ')]], 'There were headers present in the request which were not signed');
  }
  const payloadHash = h['x-amz-content-sha256'];
  if (payloadHash === undefined) throw s3err('InvalidRequest', [], 'Missing required header for this request: x-amz-content-sha256');
  if (creds.sessionToken !== null) {
    if (h['x-amz-security-token'] === undefined) throw s3err('InvalidAccessKeyId', [['AWSAccessKeyId', a.accessKey]]);
    if (h['x-amz-security-token'] !== creds.sessionToken) throw s3err('InvalidToken');
  }
  const canonicalRequest = [req.method, canonicalPath, canonicalQuery(req.target, null),
    canonicalHeaders(req.rawHeaders, a.signedHeaders), a.signedHeaders.join(';'), payloadHash].join('\n');
  const stringToSign = [ALGORITHM, stamp, a.scope, sha256hex(canonicalRequest)].join('\n');
  const expected = hmac(signingKey(creds.secretKey, a.date, a.region, a.service), stringToSign).toString('hex');
  const provided = Buffer.from(a.signature, 'utf8');
  if (provided.length !== expected.length || !crypto.timingSafeEqual(provided, Buffer.from(expected, 'utf8'))) {
    throw s3err('SignatureDoesNotMatch', [['AWSAccessKeyId', a.accessKey], ['StringToSign', stringToSign], ['SignatureProvided', a.signature],
      ['StringToSignBytes', spacedHex(stringToSign)], ['CanonicalRequest', canonicalRequest], ['CanonicalRequestBytes', spacedHex(canonicalRequest)]]);
  }
  return { accessKey: a.accessKey };
}

module.exports = { verify, uriEncode, canonicalQuery, canonicalHeaders, signingKey, accessKeyOf, parseAmzDate, amzDate, sha256hex };
