'use strict';
// The S3 double's state: buckets, the versions of their objects, open
// multipart uploads, and the listings over them (ListObjectsV2,
// ListObjectVersions, ListMultipartUploads), in S3's order: keys sorted by
// their UTF-8 bytes, each key's versions newest first, uploads of one key
// by initiation time.  Everything is in memory.
//
// Versioning follows the S3 User Guide ("Working with objects in a
// versioning-enabled bucket", "... versioning-suspended bucket", "Working
// with delete markers"): a bucket never versioned keeps one version with
// the id "null" per key; an enabled bucket adds a version (a new id) per
// PUT, and a DELETE without versionId adds a delete marker; a suspended
// bucket replaces the "null" version.

const crypto = require('crypto');

function newVersionId() { return crypto.randomBytes(24).toString('base64url'); }
function newUploadId() { return crypto.randomBytes(48).toString('base64url'); }
function keyCompare(a, b) { return Buffer.compare(a.kbuf, b.kbuf); }
function utf8Compare(a, b) { return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')); }
function seconds(ms) { return Math.floor(ms / 1000) * 1000; }

class Bucket {
  constructor(name, region, nowMs, objectLock) {
    this.name = name;
    this.region = region;
    this.created = seconds(nowMs);
    this.objectLock = !!objectLock; // turns versioning on, for good
    this.versioning = objectLock ? 'Enabled' : null; // null (never set) | 'Enabled' | 'Suspended'
    this.lockRule = null; // {mode, days} | {mode, years}: DefaultRetention
    this.objects = new Map(); // key -> {key, kbuf, versions: [newest first]}
    this.uploads = new Map(); // uploadId -> upload
  }

  entry(key) { return this.objects.get(key) || null; }
  versionsOf(key) { const e = this.entry(key); return e ? e.versions : []; }
  latest(key) { const v = this.versionsOf(key); return v.length ? v[0] : null; }
  findVersion(key, versionId) { return this.versionsOf(key).find((v) => v.versionId === versionId) || null; }

  // Add a version (an object or a delete marker) as S3 does for the bucket's
  // versioning state; returns it with its versionId set.
  addVersion(key, version) {
    let e = this.entry(key);
    if (!e) {
      e = { key, kbuf: Buffer.from(key, 'utf8'), versions: [] };
      this.objects.set(key, e);
    }
    if (this.versioning === 'Enabled') version.versionId = newVersionId();
    else {
      version.versionId = 'null';
      e.versions = e.versions.filter((v) => v.versionId !== 'null');
    }
    e.versions.unshift(version);
    return version;
  }

  removeVersion(key, versionId) {
    const e = this.entry(key);
    if (!e) return;
    e.versions = e.versions.filter((v) => v.versionId !== versionId);
    if (!e.versions.length) this.objects.delete(key);
  }

  removeKey(key) { this.objects.delete(key); }
  isEmpty() { return this.objects.size === 0 && this.uploads.size === 0; }
  sortedEntries() { return [...this.objects.values()].sort(keyCompare); }
}

// A version of an object: its bytes and what S3 keeps beside them.
function makeVersion(fields) {
  return Object.assign({
    versionId: null, deleteMarker: false, data: Buffer.alloc(0), size: 0, etag: null, lastModified: 0,
    contentType: 'binary/octet-stream', meta: {}, lockMode: null, retainUntil: null, legalHold: false, partsCount: null,
  }, fields);
}

function makeUpload(bucket, key, nowMs, fields) {
  const upload = Object.assign({
    uploadId: newUploadId(), bucket: bucket.name, key, initiated: nowMs, parts: new Map(),
    contentType: 'binary/octet-stream', meta: {}, lockMode: null, retainUntil: null, legalHold: false,
  }, fields);
  bucket.uploads.set(upload.uploadId, upload);
  return upload;
}

// Group a listing's names under a delimiter: the common prefix of name, or null.
function commonPrefix(name, prefix, delimiter) {
  if (!delimiter) return null;
  const i = name.indexOf(delimiter, prefix.length);
  return i < 0 ? null : name.slice(0, i + delimiter.length);
}

// ListObjectsV2 / ListObjects: the live objects (latest version not a
// delete marker) under prefix, after `after` ({name, isPrefix}: a key or a
// common prefix already returned), at most maxKeys entries (keys and common
// prefixes together).  -> {items: [{key, version} | {prefix}], truncated}
function listObjects(bucket, { prefix, delimiter, after, maxKeys }) {
  const items = [];
  let truncated = false;
  let lastPrefix = null;
  for (const e of bucket.sortedEntries()) {
    if (!e.key.startsWith(prefix)) continue;
    const v = e.versions[0];
    if (!v || v.deleteMarker) continue;
    if (after) {
      if (after.isPrefix && e.key.startsWith(after.name)) continue;
      if (utf8Compare(e.key, after.name) <= 0) continue;
    }
    const cp = commonPrefix(e.key, prefix, delimiter);
    if (cp !== null && cp === lastPrefix) continue;
    if (items.length >= maxKeys) { truncated = maxKeys > 0; break; }
    if (cp !== null) { items.push({ prefix: cp }); lastPrefix = cp; } else items.push({ key: e.key, version: v });
  }
  return { items, truncated };
}

// ListObjectVersions: every version and delete marker under prefix, after
// (keyMarker, versionIdMarker).  -> {items: [{key, version, isLatest} | {prefix}], truncated}
function listVersions(bucket, { prefix, delimiter, keyMarker, versionIdMarker, maxKeys }) {
  const items = [];
  let truncated = false;
  let lastPrefix = null;
  outer: for (const e of bucket.sortedEntries()) {
    if (!e.key.startsWith(prefix)) continue;
    const cmp = keyMarker ? utf8Compare(e.key, keyMarker) : 1;
    if (cmp < 0) continue;
    const cp = commonPrefix(e.key, prefix, delimiter);
    if (cp !== null) {
      if (cp === lastPrefix || (keyMarker && utf8Compare(cp, keyMarker) <= 0)) continue;
      if (items.length >= maxKeys) { truncated = maxKeys > 0; break; }
      items.push({ prefix: cp });
      lastPrefix = cp;
      continue;
    }
    let versions = e.versions.map((v, i) => ({ key: e.key, version: v, isLatest: i === 0 }));
    if (cmp === 0) {
      // the marker's key: after versionIdMarker, or (no version marker) nothing more of it
      const at = versionIdMarker ? versions.findIndex((x) => x.version.versionId === versionIdMarker) : versions.length - 1;
      versions = at < 0 ? [] : versions.slice(at + 1);
    }
    for (const x of versions) {
      if (items.length >= maxKeys) { truncated = maxKeys > 0; break outer; }
      items.push(x);
    }
  }
  return { items, truncated };
}

// ListMultipartUploads: the open uploads under prefix, by key then
// initiation, after (keyMarker, uploadIdMarker).
function listUploads(bucket, { prefix, delimiter, keyMarker, uploadIdMarker, maxUploads }) {
  const all = [...bucket.uploads.values()].filter((u) => u.key.startsWith(prefix))
    .sort((a, b) => utf8Compare(a.key, b.key) || a.initiated - b.initiated || (a.uploadId < b.uploadId ? -1 : 1));
  const items = [];
  let truncated = false;
  let lastPrefix = null;
  let skipping = !!uploadIdMarker;
  for (const u of all) {
    if (keyMarker) {
      const cmp = utf8Compare(u.key, keyMarker);
      if (cmp < 0 || (cmp === 0 && !uploadIdMarker)) continue;
      if (cmp === 0 && skipping) { if (u.uploadId === uploadIdMarker) skipping = false; continue; }
    }
    const cp = commonPrefix(u.key, prefix, delimiter);
    if (cp !== null && cp === lastPrefix) continue;
    if (items.length >= maxUploads) { truncated = maxUploads > 0; break; }
    if (cp !== null) { items.push({ prefix: cp }); lastPrefix = cp; } else items.push({ upload: u });
  }
  return { items, truncated };
}

// What an object's version carries for Object Lock, for the state endpoint.
function retentionView(v, nowMs) {
  if (!v.lockMode) return null;
  return { mode: v.lockMode, retain_until: new Date(v.retainUntil).toISOString(), active: v.retainUntil > nowMs };
}

// GET /__double/state: everything, for tests to assert on.
function stateView(buckets, nowMs) {
  return [...buckets.values()].map((b) => ({
    name: b.name, region: b.region, created: new Date(b.created).toISOString(), versioning: b.versioning,
    object_lock: { enabled: b.objectLock, default_retention: b.lockRule },
    objects: b.sortedEntries().map((e) => ({
      key: e.key,
      versions: e.versions.map((v, i) => ({
        version_id: v.versionId, is_latest: i === 0, delete_marker: v.deleteMarker,
        size: v.deleteMarker ? null : v.size, etag: v.etag, last_modified: new Date(v.lastModified).toISOString(),
        content_type: v.deleteMarker ? null : v.contentType, metadata: v.meta, parts_count: v.partsCount,
        retention: retentionView(v, nowMs), legal_hold: v.legalHold,
      })),
    })),
    uploads: [...b.uploads.values()].sort((x, y) => x.initiated - y.initiated).map((u) => ({
      upload_id: u.uploadId, key: u.key, initiated: new Date(u.initiated).toISOString(),
      retention: u.lockMode ? { mode: u.lockMode, retain_until: new Date(u.retainUntil).toISOString() } : null,
      parts: [...u.parts.values()].sort((x, y) => x.partNumber - y.partNumber)
        .map((p) => ({ part_number: p.partNumber, size: p.size, etag: p.etag })),
    })),
  }));
}

// Time passes for the stored state: every timestamp moves `sec` seconds
// into the past (uploads become stale, retention periods run out).
function ageState(buckets, sec) {
  const d = sec * 1000;
  for (const b of buckets.values()) {
    b.created -= d;
    for (const e of b.objects.values()) {
      for (const v of e.versions) {
        v.lastModified -= d;
        if (v.retainUntil !== null) v.retainUntil -= d;
      }
    }
    for (const u of b.uploads.values()) {
      u.initiated -= d;
      if (u.retainUntil !== null) u.retainUntil -= d;
      for (const p of u.parts.values()) p.lastModified -= d;
    }
  }
}

module.exports = { Bucket, makeVersion, makeUpload, listObjects, listVersions, listUploads, stateView, ageState, utf8Compare, seconds };
