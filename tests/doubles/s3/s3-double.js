#!/usr/bin/env node
'use strict';
// An Amazon S3 double for drctl's tests: buckets, objects, versions,
// multipart uploads, Object Lock and SigV4, in memory, on the doubles'
// library (../lib).  Each behaviour follows the Amazon S3 API Reference
// (https://docs.aws.amazon.com/AmazonS3/latest/API/); README.md next to this
// file lists them with their pages, the start options, the fault switches
// and the admin state.  Object operations are in objects.js, the state and
// its listings in store.js, SigV4 in sigv4.js, errors and XML in s3xml.js.

const crypto = require('crypto');
const fs = require('fs');
const lib = require('../lib');
const { S3_NS, s3err, S3Error, BY_STATUS, ERRORS, requestId, hostId, doc, errorDoc, isoTime } = require('./s3xml');
const sigv4 = require('./sigv4');
const store = require('./store');
const obj = require('./objects');

const USAGE = `usage: s3-double.js [server options] [options]
${lib.SERVER_USAGE}  --bucket NAME             a bucket to create at start (repeatable)
  --object-lock             the --bucket buckets are created with Object Lock (and so versioning)
  --lock-bucket NAME        a bucket with Object Lock, beside plain ones (repeatable)
  --region R                the region (us-east-1): SigV4 scope, LocationConstraint
  --access-key ID           require SigV4 (Authorization: AWS4-HMAC-SHA256) signed with this key ...
  --secret-key KEY | --secret-key-file F   ... and this secret
  --session-token T | --session-token-file F   also require X-Amz-Security-Token T
  --vhost-domain D          Host "BUCKET.D" addresses BUCKET (virtual-hosted style; default: localhost)
  --min-part-size N         the smallest part but the last (5242880, S3's 5 MiB)
`;

function parseOptions(argv) {
  const o = { buckets: [], objectLock: false, lockBuckets: [], region: 'us-east-1', accessKey: null, secretKey: null,
    sessionToken: null, vhostDomains: [], minPartSize: 5 * 1024 * 1024 };
  const readSecret = (f) => fs.readFileSync(f, 'utf8').replace(/\r?\n$/, '');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    switch (a) {
      case '--help': process.stdout.write(USAGE); process.exit(0); break;
      case '--bucket': o.buckets.push(val()); break;
      case '--object-lock': o.objectLock = true; break;
      case '--lock-bucket': o.lockBuckets.push(val()); break;
      case '--region': o.region = val(); break;
      case '--access-key': o.accessKey = val(); break;
      case '--secret-key': o.secretKey = val(); break;
      case '--secret-key-file': o.secretKey = readSecret(val()); break;
      case '--session-token': o.sessionToken = val(); break;
      case '--session-token-file': o.sessionToken = readSecret(val()); break;
      case '--vhost-domain': o.vhostDomains.push(val().toLowerCase()); break;
      case '--min-part-size': o.minPartSize = Number(val()); break;
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (!!o.accessKey !== !!o.secretKey) throw new Error('--access-key and --secret-key (or --secret-key-file) go together');
  if (o.sessionToken && !o.accessKey) throw new Error('--session-token needs --access-key and --secret-key');
  if (!Number.isInteger(o.minPartSize) || o.minPartSize < 0) throw new Error('--min-part-size must be a number of bytes');
  if (!o.vhostDomains.length) o.vhostDomains.push('localhost');
  return o;
}

const { server, rest } = lib.splitServerArgs(process.argv.slice(2));
let opts;
try { opts = parseOptions(rest); } catch (e) { process.stderr.write(`s3-double: ${e.message}\n`); process.exit(2); }

const clock = { offsetMs: 0, now() { return Date.now() + this.offsetMs; } };
const buckets = new Map();

function validBucketName(n) {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(n) && !n.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(n) &&
    !n.startsWith('xn--') && !n.endsWith('-s3alias');
}

function createBucket(name, objectLock) {
  const b = new store.Bucket(name, opts.region, clock.now(), objectLock);
  buckets.set(name, b);
  return b;
}
function initialBuckets() {
  buckets.clear();
  for (const n of opts.buckets) createBucket(n, opts.objectLock);
  for (const n of opts.lockBuckets) createBucket(n, true);
}
for (const n of [...opts.buckets, ...opts.lockBuckets]) {
  if (!validBucketName(n)) { process.stderr.write(`s3-double: ${n} is not a valid S3 bucket name\n`); process.exit(2); }
}
initialBuckets();

// ---------------------------------------------------------------- addressing

// The request path as S3 decodes it: "+" is a space (S3's legacy rule for
// paths, kept for compatibility), %XX a byte, the bytes UTF-8; anything
// else is 400 InvalidURI.
function s3DecodePath(raw) {
  const s = raw.replace(/\+/g, ' ');
  const bytes = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw s3err('InvalidURI', [['URI', raw]]);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(c & 0xff); // the request line was read as latin1: one char per byte
  }
  try { return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(bytes)); } catch (e) { throw s3err('InvalidURI', [['URI', raw]]); }
}

// {bucket, key, path}: virtual-hosted style (Host: BUCKET.DOMAIN) or path
// style (/BUCKET/KEY); key null for a bucket request, bucket null for the service.
function target(req) {
  const path = s3DecodePath(req.rawPath);
  const host = String(req.headers.host || '').toLowerCase().replace(/:\d+$/, '');
  for (const d of opts.vhostDomains) {
    if (host.endsWith('.' + d) && host.length > d.length + 1) {
      const key = path.length > 1 ? path.slice(1) : null;
      return { bucket: host.slice(0, host.length - d.length - 1), key, path, vhost: true };
    }
  }
  const m = /^\/([^/]*)(?:\/(.*))?$/s.exec(path);
  if (!m || m[1] === '') return { bucket: null, key: null, path, vhost: false };
  return { bucket: m[1], key: m[2] === undefined || m[2] === '' ? null : m[2], path, vhost: false };
}

// The operation a request is (for the request log: "s3_op"), from its method and query.
function operation(req, t) {
  const q = req.query;
  const m = req.method;
  if (!t) return null;
  if (t.bucket === null) return m === 'GET' ? 'ListBuckets' : null;
  if (t.key === null) {
    const sub = { 'object-lock': ['GetObjectLockConfiguration', 'PutObjectLockConfiguration'], versioning: ['GetBucketVersioning', 'PutBucketVersioning'] };
    for (const [name, [g, p]] of Object.entries(sub)) if (q.has(name)) return m === 'GET' ? g : m === 'PUT' ? p : null;
    if (q.has('versions')) return m === 'GET' ? 'ListObjectVersions' : null;
    if (q.has('uploads')) return m === 'GET' ? 'ListMultipartUploads' : null;
    if (q.has('location')) return m === 'GET' ? 'GetBucketLocation' : null;
    if (q.has('delete')) return m === 'POST' ? 'DeleteObjects' : null;
    return { GET: q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects', PUT: 'CreateBucket', DELETE: 'DeleteBucket', HEAD: 'HeadBucket' }[m] || null;
  }
  if (q.has('uploads')) return m === 'POST' ? 'CreateMultipartUpload' : null;
  if (q.has('uploadId')) return { PUT: 'UploadPart', GET: 'ListParts', POST: 'CompleteMultipartUpload', DELETE: 'AbortMultipartUpload' }[m] || null;
  if (q.has('retention')) return m === 'GET' ? 'GetObjectRetention' : m === 'PUT' ? 'PutObjectRetention' : null;
  if (q.has('legal-hold')) return m === 'GET' ? 'GetObjectLegalHold' : m === 'PUT' ? 'PutObjectLegalHold' : null;
  return { PUT: 'PutObject', GET: 'GetObject', HEAD: 'HeadObject', DELETE: 'DeleteObject' }[m] || null;
}

const UNIMPLEMENTED_SUBRESOURCES = ['acl', 'policy', 'cors', 'lifecycle', 'tagging', 'website', 'logging', 'notification', 'replication',
  'encryption', 'accelerate', 'requestPayment', 'inventory', 'analytics', 'metrics', 'ownershipControls', 'publicAccessBlock',
  'intelligent-tiering', 'attributes', 'restore', 'select', 'torrent', 'policyStatus'];

// ---------------------------------------------------------------- payload checks

// CRC-32 (IEEE) and CRC-32C (Castagnoli), reflected, as x-amz-checksum-crc32/crc32c carry them (base64 of 4 bytes, big-endian).
function crcTable(poly) {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1; t[n] = c >>> 0; }
  return t;
}
const CRC32 = crcTable(0xedb88320);
const CRC32C = crcTable(0x82f63b78);
function crc(table, buf) {
  let c = 0xffffffff;
  for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out;
}
const CHECKSUMS = {
  'x-amz-checksum-crc32': ['CRC32', (b) => crc(CRC32, b)],
  'x-amz-checksum-crc32c': ['CRC32C', (b) => crc(CRC32C, b)],
  'x-amz-checksum-sha1': ['SHA1', (b) => crypto.createHash('sha1').update(b).digest()],
  'x-amz-checksum-sha256': ['SHA256', (b) => crypto.createHash('sha256').update(b).digest()],
};

// What S3 checks before it reads a body: x-amz-content-sha256's form.
function checkPayloadHeaders(h) {
  const sha = h['x-amz-content-sha256'];
  if (sha === undefined || sha === 'UNSIGNED-PAYLOAD' || /^[0-9a-fA-F]{64}$/.test(sha)) return;
  if (sha.startsWith('STREAMING-')) throw s3err('NotImplemented', [['Header', 'x-amz-content-sha256']], `The S3 double does not implement aws-chunked uploads (${sha})`);
  throw s3err('InvalidArgument', [['ArgumentName', 'x-amz-content-sha256'], ['ArgumentValue', sha]],
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.');
}

// The body against x-amz-content-sha256 (a hex hash), Content-MD5 and the
// x-amz-checksum-* headers; then the double's flag faults.
function checkPayload(req, body) {
  const h = req.headers;
  const sha = h['x-amz-content-sha256'];
  if (sha !== undefined && /^[0-9a-fA-F]{64}$/.test(sha)) {
    const got = sigv4.sha256hex(body);
    if (got !== sha.toLowerCase()) throw s3err('XAmzContentSHA256Mismatch', [['ClientComputedContentSHA256', sha], ['S3ComputedContentSHA256', got]]);
  }
  const sent = h['content-md5'];
  if (sent !== undefined) {
    const d = /^[A-Za-z0-9+/]{22}==$/.test(sent.trim()) ? Buffer.from(sent.trim(), 'base64') : null;
    if (!d || d.length !== 16) throw s3err('InvalidDigest', [['Content-MD5', sent]]);
    const got = crypto.createHash('md5').update(body).digest();
    if (!got.equals(d)) throw s3err('BadDigest', [['ExpectedDigest', sent], ['CalculatedDigest', got.toString('base64')]]);
  }
  for (const [name, [algo, fn]] of Object.entries(CHECKSUMS)) {
    if (h[name] === undefined) continue;
    const got = fn(body).toString('base64');
    if (got !== h[name].trim()) throw s3err('BadDigest', [], `The ${algo} you specified did not match the calculated checksum.`);
  }
  if (req.flags.has('bad_content_md5')) {
    const got = crypto.createHash('md5').update(body).digest('base64');
    throw s3err('BadDigest', [['ExpectedDigest', sent || got], ['CalculatedDigest', crypto.createHash('md5').update(Buffer.concat([body, Buffer.from([0])])).digest('base64')]]);
  }
  if (req.flags.has('bad_content_sha256')) {
    // As if the body arrived damaged: S3 computed another hash than the one signed.
    const damaged = sigv4.sha256hex(Buffer.concat([body, Buffer.from([0])]));
    throw s3err('XAmzContentSHA256Mismatch', [['ClientComputedContentSHA256', sha || sigv4.sha256hex(body)], ['S3ComputedContentSHA256', damaged]]);
  }
  if (req.flags.has('internal_error')) throw s3err('InternalError');
  if (req.flags.has('slow_down')) throw s3err('SlowDown');
}

// ---------------------------------------------------------------- bucket operations

const xmlAnswer = (root, pairs) => ({ status: 200, headers: { 'Content-Type': 'application/xml' }, body: doc(root, pairs) });

function listBuckets() {
  const list = [...buckets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((b) => ['Bucket', [['Name', b.name], ['CreationDate', isoTime(b.created)]]]);
  return xmlAnswer('ListAllMyBucketsResult', [['Owner', obj.OWNER], ['Buckets', list]]);
}

function putBucket(ctx) {
  const name = ctx.t.bucket;
  if (!validBucketName(name)) throw s3err('InvalidBucketName', [['BucketName', name]]);
  let constraint = '';
  if (ctx.body.length) constraint = obj.parseBody(ctx.body, 'CreateBucketConfiguration').textOf('LocationConstraint').trim();
  if ((constraint || 'us-east-1') !== opts.region) {
    if (!constraint) throw s3err('IllegalLocationConstraintException');
    throw s3err('IllegalLocationConstraintException', [], `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`);
  }
  if (buckets.has(name)) {
    if (opts.region === 'us-east-1') return { status: 200, headers: { Location: `/${name}` } }; // S3's legacy answer there
    throw s3err('BucketAlreadyOwnedByYou', [['BucketName', name]]);
  }
  const lock = String(ctx.req.headers['x-amz-bucket-object-lock-enabled'] || '').toLowerCase() === 'true';
  createBucket(name, lock);
  return { status: 200, headers: { Location: `/${name}` } };
}

function deleteBucket(ctx, b) {
  if (!b.isEmpty()) throw s3err('BucketNotEmpty', [['BucketName', b.name]]);
  buckets.delete(b.name);
  return { status: 204, headers: {} };
}

function getObjectLockConfiguration(ctx, b) {
  if (!b.objectLock) throw s3err('ObjectLockConfigurationNotFoundError', [['BucketName', b.name]]);
  const pairs = [['ObjectLockEnabled', 'Enabled']];
  if (b.lockRule) {
    const r = b.lockRule;
    pairs.push(['Rule', [['DefaultRetention', [['Mode', r.mode], r.days ? ['Days', String(r.days)] : ['Years', String(r.years)]]]]]);
  }
  return xmlAnswer('ObjectLockConfiguration', pairs);
}

function putObjectLockConfiguration(ctx, b) {
  if (!obj.hasChecksumHeader(ctx.req.headers)) throw s3err('InvalidRequest', [], 'Missing required header for this request: Content-MD5');
  const root = obj.parseBody(ctx.body, 'ObjectLockConfiguration');
  if (root.textOf('ObjectLockEnabled').trim() !== 'Enabled') throw s3err('MalformedXML');
  let rule = null;
  const dr = root.child('Rule') && root.child('Rule').child('DefaultRetention');
  if (root.child('Rule') && !dr) throw s3err('MalformedXML');
  if (dr) {
    const mode = dr.textOf('Mode').trim();
    const days = dr.child('Days') ? dr.textOf('Days').trim() : null;
    const years = dr.child('Years') ? dr.textOf('Years').trim() : null;
    if ((mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') || (days === null) === (years === null)) throw s3err('MalformedXML');
    const n = Number(days !== null ? days : years);
    if (!Number.isInteger(n) || n <= 0) throw s3err('InvalidArgument', [], 'Default retention period must be a positive integer value.');
    rule = days !== null ? { mode, days: n } : { mode, years: n };
  }
  if (!b.objectLock) {
    if (b.versioning !== 'Enabled') throw s3err('InvalidBucketState', [], "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
    b.objectLock = true;
  }
  b.lockRule = rule;
  return { status: 200, headers: {} };
}

function getBucketVersioning(ctx, b) {
  return xmlAnswer('VersioningConfiguration', b.versioning ? [['Status', b.versioning]] : []);
}

function putBucketVersioning(ctx, b) {
  const status = obj.parseBody(ctx.body, 'VersioningConfiguration').textOf('Status').trim();
  if (status !== 'Enabled' && status !== 'Suspended') throw s3err('MalformedXML');
  if (b.objectLock && status !== 'Enabled') throw s3err('InvalidBucketState', [], 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
  b.versioning = status;
  return { status: 200, headers: {} };
}

// us-east-1 is the empty LocationConstraint; any other region is its text.
function getBucketLocation(ctx, b) {
  const text = b.region === 'us-east-1' ? '' : lib.xml.escape(b.region);
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NS}">${text}</LocationConstraint>`;
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
}

// ---------------------------------------------------------------- listings

// encoding-type=url: keys (and prefixes, markers, delimiters) URL-encoded in
// the answer, a space as "+" (as S3 encodes them; clients decode with the
// form rules), "/" left as it is.
function encoder(q) {
  const t = q.get('encoding-type');
  if (t === null) return { type: null, enc: (s) => s };
  if (t !== 'url') throw s3err('InvalidArgument', [['ArgumentName', 'encoding-type'], ['ArgumentValue', t]], 'Invalid Encoding Method specified in Request');
  return { type: 'url', enc: (s) => (s === null || s === undefined ? s : sigv4.uriEncode(s, true).replace(/%20/g, '+')) };
}

function maxKeysParam(q, name) {
  const raw = q.get(name);
  if (raw === null) return 1000;
  if (!/^-?\d+$/.test(raw) || Number(raw) < 0 || Number(raw) > 2147483647) {
    throw s3err('InvalidArgument', [['ArgumentName', name], ['ArgumentValue', raw]], `Provided ${name} not an integer or within integer range`);
  }
  return Math.min(Number(raw), 1000);
}

function contentsPairs(item, enc, owner) {
  const v = item.version;
  const pairs = [['Key', enc(item.key)], ['LastModified', isoTime(v.lastModified)], ['ETag', obj.quoted(v.etag)], ['Size', String(v.size)]];
  if (owner) pairs.push(['Owner', obj.OWNER]);
  pairs.push(['StorageClass', 'STANDARD']);
  return pairs;
}

const token = { make: (name, isPrefix) => Buffer.from(JSON.stringify({ n: name, p: isPrefix })).toString('base64'),
  read: (s) => { try { const o = JSON.parse(Buffer.from(s, 'base64').toString('utf8')); if (typeof o.n === 'string') return { name: o.n, isPrefix: !!o.p }; } catch (e) { /* below */ } return null; } };

function listObjectsV2(ctx, b) {
  const q = ctx.req.query;
  const { type, enc } = encoder(q);
  const prefix = q.get('prefix') || '';
  const delimiter = q.get('delimiter') || '';
  const maxKeys = maxKeysParam(q, 'max-keys');
  const startAfter = q.get('start-after');
  const ct = q.get('continuation-token');
  let after = startAfter ? { name: startAfter, isPrefix: false } : null;
  if (ct !== null) {
    after = token.read(ct);
    if (!after) throw s3err('InvalidArgument', [['ArgumentName', 'continuation-token'], ['ArgumentValue', ct]], 'The continuation token provided is incorrect');
  }
  const { items, truncated } = store.listObjects(b, { prefix, delimiter, after, maxKeys });
  const last = items[items.length - 1];
  const pairs = [['Name', b.name], ['Prefix', enc(prefix)]];
  if (startAfter !== null) pairs.push(['StartAfter', enc(startAfter)]);
  if (ct !== null) pairs.push(['ContinuationToken', ct]);
  if (truncated) pairs.push(['NextContinuationToken', last.prefix !== undefined ? token.make(last.prefix, true) : token.make(last.key, false)]);
  pairs.push(['KeyCount', String(items.length)], ['MaxKeys', String(maxKeys)]);
  if (delimiter) pairs.push(['Delimiter', enc(delimiter)]);
  if (type) pairs.push(['EncodingType', type]);
  pairs.push(['IsTruncated', String(truncated)]);
  const owner = q.get('fetch-owner') === 'true';
  for (const it of items) if (it.key !== undefined) pairs.push(['Contents', contentsPairs(it, enc, owner)]);
  for (const it of items) if (it.prefix !== undefined) pairs.push(['CommonPrefixes', [['Prefix', enc(it.prefix)]]]);
  return xmlAnswer('ListBucketResult', pairs);
}

// ListObjects (version 1): marker, NextMarker (given when a delimiter is).
function listObjectsV1(ctx, b) {
  const q = ctx.req.query;
  const { type, enc } = encoder(q);
  const prefix = q.get('prefix') || '';
  const delimiter = q.get('delimiter') || '';
  const maxKeys = maxKeysParam(q, 'max-keys');
  const marker = q.get('marker') || '';
  const { items, truncated } = store.listObjects(b, { prefix, delimiter, after: marker ? { name: marker, isPrefix: false } : null, maxKeys });
  const last = items[items.length - 1];
  const pairs = [['Name', b.name], ['Prefix', enc(prefix)], ['Marker', enc(marker)]];
  if (truncated && delimiter) pairs.push(['NextMarker', enc(last.prefix !== undefined ? last.prefix : last.key)]);
  pairs.push(['MaxKeys', String(maxKeys)]);
  if (delimiter) pairs.push(['Delimiter', enc(delimiter)]);
  if (type) pairs.push(['EncodingType', type]);
  pairs.push(['IsTruncated', String(truncated)]);
  for (const it of items) if (it.key !== undefined) pairs.push(['Contents', contentsPairs(it, enc, true)]);
  for (const it of items) if (it.prefix !== undefined) pairs.push(['CommonPrefixes', [['Prefix', enc(it.prefix)]]]);
  return xmlAnswer('ListBucketResult', pairs);
}

function listObjectVersions(ctx, b) {
  const q = ctx.req.query;
  const { type, enc } = encoder(q);
  const prefix = q.get('prefix') || '';
  const delimiter = q.get('delimiter') || '';
  const maxKeys = maxKeysParam(q, 'max-keys');
  const keyMarker = q.get('key-marker') || '';
  const versionIdMarker = q.get('version-id-marker') || '';
  if (versionIdMarker && !keyMarker) throw s3err('InvalidArgument', [['ArgumentName', 'version-id-marker'], ['ArgumentValue', versionIdMarker]], 'A version-id marker cannot be specified without a key marker.');
  const { items, truncated } = store.listVersions(b, { prefix, delimiter, keyMarker, versionIdMarker, maxKeys });
  const last = items[items.length - 1];
  const pairs = [['Name', b.name], ['Prefix', enc(prefix)], ['KeyMarker', enc(keyMarker)], ['VersionIdMarker', versionIdMarker]];
  if (truncated) {
    pairs.push(['NextKeyMarker', enc(last.prefix !== undefined ? last.prefix : last.key)]);
    if (last.prefix === undefined) pairs.push(['NextVersionIdMarker', last.version.versionId]);
  }
  pairs.push(['MaxKeys', String(maxKeys)]);
  if (delimiter) pairs.push(['Delimiter', enc(delimiter)]);
  if (type) pairs.push(['EncodingType', type]);
  pairs.push(['IsTruncated', String(truncated)]);
  for (const it of items) {
    if (it.prefix !== undefined) continue;
    const v = it.version;
    const common = [['Key', enc(it.key)], ['VersionId', v.versionId], ['IsLatest', String(it.isLatest)], ['LastModified', isoTime(v.lastModified)]];
    if (v.deleteMarker) pairs.push(['DeleteMarker', [...common, ['Owner', obj.OWNER]]]);
    else pairs.push(['Version', [...common, ['ETag', obj.quoted(v.etag)], ['Size', String(v.size)], ['StorageClass', 'STANDARD'], ['Owner', obj.OWNER]]]);
  }
  for (const it of items) if (it.prefix !== undefined) pairs.push(['CommonPrefixes', [['Prefix', enc(it.prefix)]]]);
  return xmlAnswer('ListVersionsResult', pairs);
}

function listMultipartUploads(ctx, b) {
  const q = ctx.req.query;
  const { type, enc } = encoder(q);
  const prefix = q.get('prefix') || '';
  const delimiter = q.get('delimiter') || '';
  const maxUploads = Math.min(obj.intParam(q, 'max-uploads', 1000), 1000);
  const keyMarker = q.get('key-marker') || '';
  const uploadIdMarker = keyMarker ? (q.get('upload-id-marker') || '') : '';
  const { items, truncated } = store.listUploads(b, { prefix, delimiter, keyMarker, uploadIdMarker, maxUploads });
  const last = items[items.length - 1];
  const pairs = [['Bucket', b.name], ['KeyMarker', enc(keyMarker)], ['UploadIdMarker', uploadIdMarker]];
  if (truncated) {
    pairs.push(['NextKeyMarker', enc(last.prefix !== undefined ? last.prefix : last.upload.key)]);
    if (last.upload) pairs.push(['NextUploadIdMarker', last.upload.uploadId]);
  }
  if (delimiter) pairs.push(['Delimiter', enc(delimiter)]);
  pairs.push(['Prefix', enc(prefix)], ['MaxUploads', String(maxUploads)]);
  if (type) pairs.push(['EncodingType', type]);
  pairs.push(['IsTruncated', String(truncated)]);
  for (const it of items) {
    if (!it.upload) continue;
    const u = it.upload;
    pairs.push(['Upload', [['Key', enc(u.key)], ['UploadId', u.uploadId], ['Initiator', obj.OWNER], ['Owner', obj.OWNER],
      ['StorageClass', 'STANDARD'], ['Initiated', isoTime(u.initiated)]]]);
  }
  for (const it of items) if (it.prefix !== undefined) pairs.push(['CommonPrefixes', [['Prefix', enc(it.prefix)]]]);
  return xmlAnswer('ListMultipartUploadsResult', pairs);
}

// ---------------------------------------------------------------- routing

const OPS = {
  ListBuckets: { fn: listBuckets, bucket: false },
  CreateBucket: { fn: putBucket, bucket: false, body: true },
  DeleteBucket: { fn: deleteBucket },
  HeadBucket: { fn: (ctx, b) => ({ status: 200, headers: { 'x-amz-bucket-region': b.region } }) },
  ListObjectsV2: { fn: listObjectsV2 },
  ListObjects: { fn: listObjectsV1 },
  ListObjectVersions: { fn: listObjectVersions },
  ListMultipartUploads: { fn: listMultipartUploads },
  GetBucketLocation: { fn: getBucketLocation },
  GetObjectLockConfiguration: { fn: getObjectLockConfiguration },
  PutObjectLockConfiguration: { fn: putObjectLockConfiguration, body: true },
  GetBucketVersioning: { fn: getBucketVersioning },
  PutBucketVersioning: { fn: putBucketVersioning, body: true },
  DeleteObjects: { fn: obj.deleteObjects, own: true },
  PutObject: { fn: obj.putObject, own: true },
  GetObject: { fn: obj.getObject, own: true },
  HeadObject: { fn: obj.getObject, own: true },
  DeleteObject: { fn: obj.deleteObject, own: true },
  CreateMultipartUpload: { fn: obj.createMultipartUpload, own: true },
  UploadPart: { fn: obj.uploadPart, own: true },
  CompleteMultipartUpload: { fn: (ctx, b) => obj.completeMultipartUpload(ctx, b, opts), own: true },
  AbortMultipartUpload: { fn: obj.abortMultipartUpload, own: true },
  ListParts: { fn: obj.listParts, own: true },
  GetObjectRetention: { fn: obj.getObjectRetention, own: true },
  PutObjectRetention: { fn: obj.putObjectRetention, own: true },
  GetObjectLegalHold: { fn: obj.getObjectLegalHold, own: true },
  PutObjectLegalHold: { fn: obj.putObjectLegalHold, own: true },
};

function baseHeaders(ctx) { return { 'x-amz-request-id': ctx.requestId, 'x-amz-id-2': ctx.hostId, Server: 'AmazonS3' }; }

function sendError(ctx, e) {
  const res = ctx.res;
  if (res.finished) return;
  if (res.headersSent) { res.destroy(); return; }
  const err = e instanceof S3Error ? e
    : e instanceof lib.HttpError && e.status === 413 ? s3err('EntityTooLarge')
      : s3err('InternalError');
  if (!(e instanceof S3Error) && !(e instanceof lib.HttpError)) process.stderr.write(`s3-double: ${e && e.stack || e}\n`);
  const fields = [...err.fields];
  if (err.code === 'NoSuchBucket' && !fields.length && ctx.t && ctx.t.bucket) fields.push(['BucketName', ctx.t.bucket]);
  const headers = Object.assign(baseHeaders(ctx), { 'Content-Type': 'application/xml' }, err.headers);
  res.send(err.status, headers, errorDoc(err.code, err.message, fields, ctx.requestId, ctx.hostId));
}

async function handle(req, res) {
  const ctx = { req, res, requestId: requestId(), hostId: hostId(), now: clock.now(), t: null, key: null, body: null, payloadRead: false,
    scheme: server.tlsCert ? 'https' : 'http' };
  ctx.payload = async (limit) => {
    if (ctx.payloadRead) return ctx.body;
    ctx.body = await lib.readBody(req, limit || 1024 * 1024);
    ctx.payloadRead = true;
    checkPayload(req, ctx.body);
    return ctx.body;
  };
  try {
    ctx.t = target(req);
    if (opts.accessKey) sigv4.verify(req, opts, sigv4.uriEncode(ctx.t.path, true), ctx.now);
    checkPayloadHeaders(req.headers);
    const q = req.query;
    if (UNIMPLEMENTED_SUBRESOURCES.some((s) => q.has(s))) throw s3err('NotImplemented', [], 'The S3 double does not implement this subresource');
    const name = operation(req, ctx.t);
    if (!name) throw s3err('MethodNotAllowed', [['Method', req.method], ['ResourceType', ctx.t.key === null ? 'BUCKET' : 'OBJECT']]);
    const op = OPS[name];
    let bucket = null;
    if (op.bucket !== false) {
      bucket = buckets.get(ctx.t.bucket);
      if (!bucket) throw s3err('NoSuchBucket', [['BucketName', ctx.t.bucket]]);
    }
    ctx.key = ctx.t.key;
    if (!op.own) await ctx.payload(op.body ? 4 * 1024 * 1024 : undefined);
    const out = await op.fn(ctx, bucket);
    if (!ctx.payloadRead) await ctx.payload();
    const headers = Object.assign(baseHeaders(ctx), out.headers);
    if (out.stream) {
      res.startStream(out.status, headers);
      await out.stream(res, lib.sleep);
      return;
    }
    if (req.method === 'HEAD' && headers['Content-Length'] === undefined) headers['Content-Length'] = '0';
    res.send(out.status, headers, out.body === undefined ? null : out.body);
  } catch (e) {
    sendError(ctx, e);
  }
}

// ---------------------------------------------------------------- admin

function adminState(req, res) { lib.sendJSON(res, 200, { buckets: store.stateView(buckets, clock.now()), clock_offset_ms: clock.offsetMs, region: opts.region }); }

// POST /__double/state: {"clock_offset_ms": N} (the double's clock, for
// SigV4's RequestTimeTooSkewed and retention), {"age_seconds": N} (every
// stored timestamp N seconds older: stale uploads, expired retention),
// {"buckets": [{"name", "object_lock"}]} (created).
async function adminSetState(req, res) {
  const body = await lib.readJSON(req);
  const known = new Set(['clock_offset_ms', 'age_seconds', 'buckets']);
  for (const k of Object.keys(body)) if (!known.has(k)) throw new lib.HttpError(400, `unknown state key "${k}"; known: ${[...known].join(', ')}`, { code: 'InvalidArgument' });
  if (body.clock_offset_ms !== undefined) {
    if (!Number.isInteger(body.clock_offset_ms)) throw new lib.HttpError(400, 'clock_offset_ms must be an integer', { code: 'InvalidArgument' });
    clock.offsetMs = body.clock_offset_ms;
  }
  if (body.age_seconds !== undefined) {
    if (!Number.isInteger(body.age_seconds) || body.age_seconds < 0) throw new lib.HttpError(400, 'age_seconds must be an integer >= 0', { code: 'InvalidArgument' });
    store.ageState(buckets, body.age_seconds);
  }
  for (const b of body.buckets || []) {
    if (!b || typeof b.name !== 'string' || !validBucketName(b.name)) throw new lib.HttpError(400, 'buckets: each needs a valid "name"', { code: 'InvalidBucketName' });
    if (!buckets.has(b.name)) createBucket(b.name, !!b.object_lock);
  }
  adminState(req, res);
}

lib.createDouble({
  name: 's3',
  server,
  handler: handle,
  errorBody: (status, message, details) => {
    const code = details.code || BY_STATUS[status] || 'InternalError';
    const text = details.fault && ERRORS[code] ? ERRORS[code][1] : message;
    return { headers: { 'Content-Type': 'application/xml', 'x-amz-request-id': requestId() }, body: errorDoc(code, text, [], requestId(), hostId()) };
  },
  logHeaders: ['host', 'content-type', 'content-md5', 'x-amz-content-sha256', 'x-amz-date', 'range', 'expect', 'if-match', 'if-none-match',
    'x-amz-object-lock-mode', 'x-amz-object-lock-retain-until-date', 'x-amz-object-lock-legal-hold', 'x-amz-bypass-governance-retention',
    'x-amz-bucket-object-lock-enabled', 'x-amz-checksum-crc32', 'x-amz-checksum-crc32c', 'x-amz-checksum-sha1', 'x-amz-checksum-sha256'],
  logFields: (req) => {
    let t = null;
    try { t = target(req); } catch (e) { /* InvalidURI: answered by the handler */ }
    return {
      s3_op: operation(req, t), bucket: t ? t.bucket : null, key: t ? t.key : null,
      part_number: req.query.has('partNumber') ? Number(req.query.get('partNumber')) : null,
      upload_id: req.query.get('uploadId'), version_id: req.query.get('versionId'), access_key: sigv4.accessKeyOf(req.headers),
    };
  },
  admin: { 'GET /state': adminState, 'POST,PUT /state': adminSetState },
  onReset: () => { initialBuckets(); clock.offsetMs = 0; },
}).run();
