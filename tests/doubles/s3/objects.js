'use strict';
// The S3 double's object operations, each as its page of the Amazon S3 API
// Reference describes it: PutObject, GetObject (Range), HeadObject,
// DeleteObject, DeleteObjects, CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts,
// GetObjectRetention / PutObjectRetention, GetObjectLegalHold /
// PutObjectLegalHold.  A handler gets the request's context (ctx: the
// request, the bucket, the key, the clock, ctx.payload() to read and check
// the body) and returns the answer {status, headers, body}, or throws the
// S3Error the page lists.

const crypto = require('crypto');
const { xml } = require('../lib');
const { s3err, doc, isoTime, httpTime } = require('./s3xml');
const { makeVersion, makeUpload, seconds } = require('./store');
const { uriEncode } = require('./sigv4');

const MAX_OBJECT = 5 * 1024 * 1024 * 1024; // 5 GiB: PutObject and each part
const MAX_PARTS = 10000;
const LOCK_CHECKSUM_PUT = 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters';
const LOCK_CHECKSUM_PART = 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters';
const LOCKED = 'Access Denied because object protected by object lock.';
const CHECKSUM_HEADERS = ['x-amz-checksum-crc32', 'x-amz-checksum-crc32c', 'x-amz-checksum-crc64nvme', 'x-amz-checksum-sha1', 'x-amz-checksum-sha256'];

const md5 = (b) => crypto.createHash('md5').update(b).digest();
const quoted = (hex) => `"${hex}"`;
const unquote = (s) => String(s).trim().replace(/^"(.*)"$/, '$1');
const OWNER = [['ID', '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a'], ['DisplayName', 'drctl-test']];

function hasChecksumHeader(h) { return h['content-md5'] !== undefined || CHECKSUM_HEADERS.some((n) => h[n] !== undefined); }

// ISO 8601 date-time (S3's x-amz-object-lock-retain-until-date, RetainUntilDate) -> ms or NaN
function parseIso(s) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(String(s || '').trim())) return NaN;
  return Date.parse(s);
}

function requireLength(ctx) {
  const h = ctx.req.headers;
  if (h['content-length'] === undefined && h['x-amz-decoded-content-length'] === undefined) throw s3err('MissingContentLength');
  const size = Number(h['content-length']);
  if (size > MAX_OBJECT) throw s3err('EntityTooLarge', [['ProposedSize', String(size)], ['MaxSizeAllowed', String(MAX_OBJECT)]]);
}

// The Object Lock settings a PutObject or CreateMultipartUpload asks for
// (x-amz-object-lock-mode, -retain-until-date, -legal-hold), or the
// bucket's default retention.  -> {lockMode, retainUntil, legalHold, lockParams}
function lockSettings(ctx, bucket) {
  const h = ctx.req.headers;
  const mode = h['x-amz-object-lock-mode'];
  const until = h['x-amz-object-lock-retain-until-date'];
  const hold = h['x-amz-object-lock-legal-hold'];
  const out = { lockMode: null, retainUntil: null, legalHold: false, lockParams: false };
  if (mode !== undefined || until !== undefined || hold !== undefined) {
    if (!bucket.objectLock) throw s3err('InvalidRequest', [], 'Bucket is missing Object Lock Configuration');
    out.lockParams = true;
    if ((mode === undefined) !== (until === undefined)) {
      throw s3err('InvalidArgument', [], 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
    }
    if (mode !== undefined) {
      if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') {
        throw s3err('InvalidArgument', [['ArgumentName', 'x-amz-object-lock-mode'], ['ArgumentValue', mode]], 'Unknown wormMode directive.');
      }
      const ms = parseIso(until);
      if (Number.isNaN(ms)) {
        throw s3err('InvalidArgument', [['ArgumentName', 'x-amz-object-lock-retain-until-date'], ['ArgumentValue', until]],
          'The retain until date must be provided in ISO 8601 format');
      }
      if (ms <= ctx.now) throw s3err('InvalidArgument', [['ArgumentName', 'x-amz-object-lock-retain-until-date'], ['ArgumentValue', until]], 'The retain until date must be in the future!');
      out.lockMode = mode;
      out.retainUntil = ms;
    }
    if (hold !== undefined) {
      if (hold !== 'ON' && hold !== 'OFF') throw s3err('InvalidArgument', [['ArgumentName', 'x-amz-object-lock-legal-hold'], ['ArgumentValue', hold]], "Legal Hold must be either of 'ON' or 'OFF'");
      out.legalHold = hold === 'ON';
    }
  }
  if (!out.lockMode && bucket.lockRule) out.lockParams = true; // the default applies: still "Object Lock parameters"
  return out;
}

// The bucket's default retention for a version created now, unless it has its own.
function applyDefaultRetention(v, bucket, nowMs) {
  if (v.lockMode || !bucket.lockRule) return;
  const r = bucket.lockRule;
  v.lockMode = r.mode;
  v.retainUntil = nowMs + (r.days ? r.days : r.years * 365) * 86400000;
}

function isProtected(v, nowMs, bypassGovernance) {
  if (v.legalHold) return true;
  if (!v.lockMode || v.retainUntil <= nowMs) return false;
  return v.lockMode === 'COMPLIANCE' || !bypassGovernance;
}
function bypass(ctx) { return String(ctx.req.headers['x-amz-bypass-governance-retention'] || '').toLowerCase() === 'true'; }

function userMeta(h) {
  const meta = {};
  for (const [n, v] of Object.entries(h)) if (n.startsWith('x-amz-meta-')) meta[n] = v;
  return meta;
}

// The headers GetObject and HeadObject answer with for a version.
function versionHeaders(bucket, v) {
  const out = { 'Last-Modified': httpTime(v.lastModified), ETag: quoted(v.etag), 'Content-Type': v.contentType, 'Accept-Ranges': 'bytes' };
  if (bucket.versioning !== null) out['x-amz-version-id'] = v.versionId;
  Object.assign(out, v.meta);
  if (v.lockMode) {
    out['x-amz-object-lock-mode'] = v.lockMode;
    out['x-amz-object-lock-retain-until-date'] = isoTime(v.retainUntil);
  }
  if (v.legalHold) out['x-amz-object-lock-legal-hold'] = 'ON';
  return out;
}

function checkVersionId(id) {
  if (id !== 'null' && !/^[A-Za-z0-9_-]{32}$/.test(id)) throw s3err('InvalidArgument', [['ArgumentName', 'versionId'], ['ArgumentValue', id]], 'Invalid version id specified');
}

// The version a GET, HEAD or ?retention addresses (the latest, or ?versionId).
function addressedVersion(ctx, bucket, method) {
  const id = ctx.req.query.get('versionId');
  if (id !== null) {
    checkVersionId(id);
    const v = bucket.findVersion(ctx.key, id);
    if (!v) throw s3err('NoSuchVersion', [['Key', ctx.key], ['VersionId', id]]);
    if (v.deleteMarker) {
      throw s3err('MethodNotAllowed', [['Method', method], ['ResourceType', 'DeleteMarker']], undefined,
        { 'x-amz-delete-marker': 'true', 'x-amz-version-id': v.versionId, 'Last-Modified': httpTime(v.lastModified), Allow: 'DELETE' });
    }
    return v;
  }
  const v = bucket.latest(ctx.key);
  if (!v) throw s3err('NoSuchKey', [['Key', ctx.key]]);
  if (v.deleteMarker) throw s3err('NoSuchKey', [['Key', ctx.key]], undefined, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': v.versionId });
  return v;
}

// If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since (RFC 9110, as GetObject's page lists them).
function readPreconditions(ctx, v) {
  const h = ctx.req.headers;
  const matches = (list) => list.split(',').map((s) => s.trim()).some((t) => t === '*' || unquote(t) === v.etag);
  if (h['if-match'] !== undefined && !matches(h['if-match'])) throw s3err('PreconditionFailed', [['Condition', 'If-Match']]);
  if (h['if-unmodified-since'] !== undefined && h['if-match'] === undefined) {
    const t = Date.parse(h['if-unmodified-since']);
    if (!Number.isNaN(t) && v.lastModified > t) throw s3err('PreconditionFailed', [['Condition', 'If-Unmodified-Since']]);
  }
  if (h['if-none-match'] !== undefined) { if (matches(h['if-none-match'])) return 304; } else if (h['if-modified-since'] !== undefined) {
    const t = Date.parse(h['if-modified-since']);
    if (!Number.isNaN(t) && v.lastModified <= t) return 304;
  }
  return 0;
}

// PutObject / CompleteMultipartUpload: If-None-Match: * (only if no object) and If-Match (only that ETag).
function writePreconditions(ctx, bucket) {
  const h = ctx.req.headers;
  const cur = bucket.latest(ctx.key);
  const live = cur && !cur.deleteMarker ? cur : null;
  if (h['if-none-match'] !== undefined) {
    if (h['if-none-match'].trim() !== '*') throw s3err('NotImplemented', [['Header', 'If-None-Match']], 'A header you provided implies functionality that is not implemented');
    if (live) throw s3err('PreconditionFailed', [['Condition', 'If-None-Match']]);
  }
  if (h['if-match'] !== undefined) {
    if (!live) throw s3err('NoSuchKey', [['Key', ctx.key]]);
    if (unquote(h['if-match']) !== live.etag && h['if-match'].trim() !== '*') throw s3err('PreconditionFailed', [['Condition', 'If-Match']]);
  }
}

// "bytes=a-b", "bytes=a-", "bytes=-n" (RFC 9110 14.1.2): {start, end}, null
// (ignored: a syntax S3 does not take, such as several ranges) or 'unsatisfiable'.
function parseRange(value, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(String(value).trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

async function putObject(ctx, bucket) {
  const h = ctx.req.headers;
  if (h['x-amz-copy-source'] !== undefined) throw s3err('NotImplemented', [['Header', 'x-amz-copy-source']], 'The S3 double does not implement CopyObject');
  requireLength(ctx);
  const lock = lockSettings(ctx, bucket);
  if (lock.lockParams && !hasChecksumHeader(h)) throw s3err('InvalidRequest', [], LOCK_CHECKSUM_PUT);
  const body = await ctx.payload(MAX_OBJECT);
  writePreconditions(ctx, bucket);
  const v = bucket.addVersion(ctx.key, makeVersion({
    data: body, size: body.length, etag: md5(body).toString('hex'), lastModified: seconds(ctx.now),
    contentType: h['content-type'] || 'binary/octet-stream', meta: userMeta(h),
    lockMode: lock.lockMode, retainUntil: lock.retainUntil, legalHold: lock.legalHold,
  }));
  applyDefaultRetention(v, bucket, ctx.now);
  const headers = { ETag: quoted(v.etag) };
  if (bucket.versioning !== null) headers['x-amz-version-id'] = v.versionId;
  return { status: 200, headers };
}

async function getObject(ctx, bucket) {
  await ctx.payload();
  const head = ctx.req.method === 'HEAD';
  const v = addressedVersion(ctx, bucket, ctx.req.method);
  const headers = versionHeaders(bucket, v);
  if (readPreconditions(ctx, v) === 304) {
    return { status: 304, headers: { ETag: headers.ETag, 'Last-Modified': headers['Last-Modified'], 'x-amz-version-id': headers['x-amz-version-id'] } };
  }
  const range = ctx.req.headers.range !== undefined ? parseRange(ctx.req.headers.range, v.size) : null;
  if (range === 'unsatisfiable') {
    throw s3err('InvalidRange', [['RangeRequested', ctx.req.headers.range], ['ActualObjectSize', String(v.size)]], undefined, { 'Content-Range': `bytes */${v.size}` });
  }
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${v.size}`;
    headers['Content-Length'] = String(range.end - range.start + 1);
    return { status: 206, headers, body: head ? null : v.data.subarray(range.start, range.end + 1) };
  }
  headers['Content-Length'] = String(v.size);
  return { status: 200, headers, body: head ? null : v.data };
}

// DeleteObject's effect on one key (also each object of DeleteObjects):
// {versionId, deleteMarker} for the answer's headers, or an S3Error.
function deleteOne(ctx, bucket, key, versionId) {
  if (versionId !== null && versionId !== undefined) {
    checkVersionId(versionId);
    const v = bucket.findVersion(key, versionId);
    if (!v) return { versionId, deleteMarker: false };
    if (!v.deleteMarker && isProtected(v, ctx.now, bypass(ctx))) throw s3err('AccessDenied', [], LOCKED);
    bucket.removeVersion(key, versionId);
    return { versionId, deleteMarker: v.deleteMarker };
  }
  if (bucket.versioning === null) {
    bucket.removeKey(key);
    return { versionId: null, deleteMarker: false };
  }
  const marker = bucket.addVersion(key, makeVersion({ deleteMarker: true, lastModified: seconds(ctx.now), contentType: null }));
  return { versionId: marker.versionId, deleteMarker: true, created: true };
}

async function deleteObject(ctx, bucket) {
  await ctx.payload();
  const r = deleteOne(ctx, bucket, ctx.key, ctx.req.query.get('versionId'));
  const headers = {};
  if (r.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  if (r.versionId !== null) headers['x-amz-version-id'] = r.versionId;
  return { status: 204, headers };
}

// POST /bucket?delete: <Delete><Quiet/><Object><Key/><VersionId/></Object>...</Delete>
async function deleteObjects(ctx, bucket) {
  if (!hasChecksumHeader(ctx.req.headers)) throw s3err('InvalidRequest', [], 'Missing required header for this request: Content-MD5');
  const root = parseBody(await ctx.payload(4 * 1024 * 1024), 'Delete');
  const objects = root.all('Object');
  if (!objects.length || objects.length > 1000) throw s3err('MalformedXML');
  const quiet = root.textOf('Quiet').trim() === 'true';
  const out = [];
  for (const o of objects) {
    const key = o.textOf('Key');
    const vid = o.child('VersionId') ? o.textOf('VersionId') : null;
    try {
      const r = deleteOne(ctx, bucket, key, vid);
      if (quiet) continue;
      const d = [['Key', key]];
      if (vid !== null) d.push(['VersionId', vid]);
      if (r.deleteMarker) d.push(['DeleteMarker', 'true']);
      if (r.created) d.push(['DeleteMarkerVersionId', r.versionId]);
      out.push(['Deleted', d]);
    } catch (e) {
      if (!e.code) throw e;
      const d = [['Key', key]];
      if (vid !== null) d.push(['VersionId', vid]);
      out.push(['Error', [...d, ['Code', e.code], ['Message', e.message]]]);
    }
  }
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: doc('DeleteResult', out) };
}

function parseBody(buf, rootName) {
  let root;
  try { root = xml.parse(buf.toString('utf8')); } catch (e) { throw s3err('MalformedXML'); }
  if (root.local !== rootName) throw s3err('MalformedXML');
  return root;
}

// ---------------------------------------------------------------- multipart

async function createMultipartUpload(ctx, bucket) {
  await ctx.payload();
  const h = ctx.req.headers;
  const lock = lockSettings(ctx, bucket);
  const u = makeUpload(bucket, ctx.key, ctx.now, {
    contentType: h['content-type'] || 'binary/octet-stream', meta: userMeta(h),
    lockMode: lock.lockMode, retainUntil: lock.retainUntil, legalHold: lock.legalHold, lockParams: lock.lockParams,
  });
  const body = doc('InitiateMultipartUploadResult', [['Bucket', bucket.name], ['Key', ctx.key], ['UploadId', u.uploadId]]);
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
}

function findUpload(ctx, bucket) {
  const id = ctx.req.query.get('uploadId');
  const u = bucket.uploads.get(id);
  if (!u || u.key !== ctx.key) throw s3err('NoSuchUpload', [['UploadId', id]]);
  return u;
}

async function uploadPart(ctx, bucket) {
  const raw = ctx.req.query.get('partNumber');
  if (raw === null || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PARTS) {
    throw s3err('InvalidArgument', [['ArgumentName', 'partNumber'], ['ArgumentValue', raw === null ? '' : raw]],
      'Part number must be an integer between 1 and 10000, inclusive');
  }
  if (ctx.req.headers['x-amz-copy-source'] !== undefined) throw s3err('NotImplemented', [['Header', 'x-amz-copy-source']], 'The S3 double does not implement UploadPartCopy');
  const u = findUpload(ctx, bucket);
  requireLength(ctx);
  if ((u.lockParams || bucket.lockRule) && !hasChecksumHeader(ctx.req.headers)) throw s3err('InvalidRequest', [], LOCK_CHECKSUM_PART);
  const body = await ctx.payload(MAX_OBJECT);
  if (!bucket.uploads.has(u.uploadId)) throw s3err('NoSuchUpload', [['UploadId', u.uploadId]]); // aborted meanwhile
  const part = { partNumber: Number(raw), data: body, size: body.length, md5: md5(body), lastModified: seconds(ctx.now) };
  part.etag = part.md5.toString('hex');
  u.parts.set(part.partNumber, part);
  return { status: 200, headers: { ETag: quoted(part.etag) } };
}

// The parts list of a CompleteMultipartUpload body, checked as the page
// says: ascending part numbers (InvalidPartOrder), each uploaded with that
// ETag (InvalidPart), each but the last at least the minimum size (EntityTooSmall).
function checkCompletion(ctx, u, minPartSize) {
  const root = parseBody(ctx.body, 'CompleteMultipartUpload');
  const listed = root.all('Part').map((p) => ({ number: Number(p.textOf('PartNumber').trim()), etag: unquote(p.textOf('ETag')) }));
  if (!listed.length) throw s3err('MalformedXML');
  const parts = [];
  let prev = 0;
  for (const [i, p] of listed.entries()) {
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > MAX_PARTS) throw s3err('InvalidArgument', [['ArgumentName', 'PartNumber'], ['ArgumentValue', String(p.number)]], 'PartNumber must be >= 1');
    if (p.number <= prev) throw s3err('InvalidPartOrder', [['UploadId', u.uploadId], ['PartNumber', String(p.number)]]);
    prev = p.number;
    const part = u.parts.get(p.number);
    if (!part || part.etag !== p.etag) throw s3err('InvalidPart', [['UploadId', u.uploadId], ['PartNumber', String(p.number)], ['ETag', p.etag]]);
    if (i < listed.length - 1 && part.size < minPartSize) {
      throw s3err('EntityTooSmall', [['ProposedSize', String(part.size)], ['MinSizeAllowed', String(minPartSize)], ['PartNumber', String(p.number)], ['ETag', part.etag]]);
    }
    parts.push(part);
  }
  return parts;
}

async function completeMultipartUpload(ctx, bucket, options) {
  const u = findUpload(ctx, bucket);
  await ctx.payload(16 * 1024 * 1024);
  const parts = checkCompletion(ctx, u, options.minPartSize);
  writePreconditions(ctx, bucket);
  const flags = ctx.req.flags;
  if (flags.has('complete_error')) return completionAnswer(ctx, doc('Error', [['Code', 'InternalError'], ['Message', 'We encountered an internal error. Please try again.'],
    ['RequestId', ctx.requestId], ['HostId', ctx.hostId]], { noNamespace: true }), {}, flags);
  const data = Buffer.concat(parts.map((p) => p.data));
  const etag = `${md5(Buffer.concat(parts.map((p) => p.md5))).toString('hex')}-${parts.length}`;
  bucket.uploads.delete(u.uploadId);
  const v = bucket.addVersion(ctx.key, makeVersion({
    data, size: data.length, etag, lastModified: seconds(ctx.now), contentType: u.contentType, meta: u.meta,
    lockMode: u.lockMode, retainUntil: u.retainUntil, legalHold: u.legalHold, partsCount: parts.length,
  }));
  applyDefaultRetention(v, bucket, ctx.now);
  const headers = {};
  if (bucket.versioning !== null) headers['x-amz-version-id'] = v.versionId;
  const location = `${ctx.scheme}://${ctx.req.headers.host || 'localhost'}/${uriEncode(bucket.name, false)}/${uriEncode(ctx.key, true)}`;
  return completionAnswer(ctx, doc('CompleteMultipartUploadResult', [['Location', location], ['Bucket', bucket.name], ['Key', ctx.key], ['ETag', quoted(etag)]]), headers, flags);
}

// The 200 of CompleteMultipartUpload; with the complete_whitespace flag it
// is sent the way S3 sends a slow completion: the XML declaration at once,
// whitespace while it works, then the document (the page: "Amazon S3
// periodically sends white space characters to keep the connection from timing out").
function completionAnswer(ctx, body, headers, flags) {
  if (!flags.has('complete_whitespace')) return { status: 200, headers: Object.assign({ 'Content-Type': 'application/xml' }, headers), body };
  const decl = '<?xml version="1.0" encoding="UTF-8"?>\n';
  const rest = body.startsWith(decl) ? body.slice(decl.length) : body;
  return {
    status: 200, headers: Object.assign({ 'Content-Type': 'application/xml' }, headers),
    stream: async (res, sleep) => {
      res.write(decl);
      for (let i = 0; i < 3; i++) { await sleep(100); res.write('  \n'); }
      res.write(rest);
      res.end();
    },
  };
}

async function abortMultipartUpload(ctx, bucket) {
  await ctx.payload();
  const u = findUpload(ctx, bucket);
  bucket.uploads.delete(u.uploadId);
  return { status: 204, headers: {} };
}

function intParam(q, name, dflt) {
  const raw = q.get(name);
  if (raw === null) return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) > 2147483647) throw s3err('InvalidArgument', [['ArgumentName', name], ['ArgumentValue', raw]], `Argument ${name} must be an integer between 0 and 2147483647`);
  return Number(raw);
}

async function listParts(ctx, bucket) {
  await ctx.payload();
  const u = findUpload(ctx, bucket);
  const q = ctx.req.query;
  const maxParts = Math.min(intParam(q, 'max-parts', 1000), 1000);
  const marker = intParam(q, 'part-number-marker', 0);
  const all = [...u.parts.values()].filter((p) => p.partNumber > marker).sort((a, b) => a.partNumber - b.partNumber);
  const page = all.slice(0, maxParts);
  const truncated = all.length > page.length;
  const pairs = [['Bucket', bucket.name], ['Key', u.key], ['UploadId', u.uploadId], ['Initiator', OWNER], ['Owner', OWNER], ['StorageClass', 'STANDARD'],
    ['PartNumberMarker', String(marker)], ['NextPartNumberMarker', page.length ? String(page[page.length - 1].partNumber) : null],
    ['MaxParts', String(maxParts)], ['IsTruncated', String(truncated)],
    ...page.map((p) => ['Part', [['PartNumber', String(p.partNumber)], ['LastModified', isoTime(p.lastModified)], ['ETag', quoted(p.etag)], ['Size', String(p.size)]]])];
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body: doc('ListPartsResult', pairs) };
}

// ---------------------------------------------------------------- retention, legal hold

function lockedBucket(bucket) { if (!bucket.objectLock) throw s3err('InvalidRequest', [], 'Bucket is missing Object Lock Configuration'); }

async function getObjectRetention(ctx, bucket) {
  await ctx.payload();
  lockedBucket(bucket);
  const v = addressedVersion(ctx, bucket, 'GET');
  if (!v.lockMode) throw s3err('NoSuchObjectLockConfiguration');
  const body = doc('Retention', [['Mode', v.lockMode], ['RetainUntilDate', isoTime(v.retainUntil)]]);
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
}

// PutObjectRetention: a retention may be extended; shortened or removed only
// in GOVERNANCE mode with x-amz-bypass-governance-retention; COMPLIANCE stays.
async function putObjectRetention(ctx, bucket) {
  if (!hasChecksumHeader(ctx.req.headers)) throw s3err('InvalidRequest', [], 'Missing required header for this request: Content-MD5');
  const root = parseBody(await ctx.payload(1024 * 1024), 'Retention');
  lockedBucket(bucket);
  const v = addressedVersion(ctx, bucket, 'PUT');
  const mode = root.textOf('Mode').trim() || null;
  const untilText = root.textOf('RetainUntilDate').trim();
  if (mode !== null && mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') throw s3err('MalformedXML');
  const until = untilText ? parseIso(untilText) : null;
  if (until !== null && Number.isNaN(until)) throw s3err('MalformedXML');
  if ((mode === null) !== (until === null)) throw s3err('MalformedXML');
  if (until !== null && until <= ctx.now) throw s3err('InvalidArgument', [], 'The retain until date must be in the future!');
  const active = v.lockMode && v.retainUntil > ctx.now;
  const weaker = active && (mode === null || until < v.retainUntil || (v.lockMode === 'COMPLIANCE' && mode !== 'COMPLIANCE'));
  if (weaker && (v.lockMode === 'COMPLIANCE' || !bypass(ctx))) throw s3err('AccessDenied', [], LOCKED);
  v.lockMode = mode;
  v.retainUntil = until;
  return { status: 200, headers: {} };
}

async function getObjectLegalHold(ctx, bucket) {
  await ctx.payload();
  lockedBucket(bucket);
  const v = addressedVersion(ctx, bucket, 'GET');
  const body = doc('LegalHold', [['Status', v.legalHold ? 'ON' : 'OFF']]);
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
}

async function putObjectLegalHold(ctx, bucket) {
  if (!hasChecksumHeader(ctx.req.headers)) throw s3err('InvalidRequest', [], 'Missing required header for this request: Content-MD5');
  const root = parseBody(await ctx.payload(1024 * 1024), 'LegalHold');
  lockedBucket(bucket);
  const status = root.textOf('Status').trim();
  if (status !== 'ON' && status !== 'OFF') throw s3err('MalformedXML');
  addressedVersion(ctx, bucket, 'PUT').legalHold = status === 'ON';
  return { status: 200, headers: {} };
}

module.exports = {
  putObject, getObject, deleteObject, deleteObjects, createMultipartUpload, uploadPart, completeMultipartUpload,
  abortMultipartUpload, listParts, getObjectRetention, putObjectRetention, getObjectLegalHold, putObjectLegalHold,
  parseRange, parseBody, intParam, OWNER, quoted, hasChecksumHeader,
};
