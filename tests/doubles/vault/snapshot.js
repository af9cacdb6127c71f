'use strict';
// Raft snapshot archives as Vault writes them (hashicorp/raft-snapshot
// archive.go): gzip over a tar of meta.json, state.bin, SHA256SUMS and
// SHA256SUMS.sealed, in that order.  Generation streams (state.bin may carry
// gigabytes of deterministic filler); reading streams and keeps only the
// JSON head of state.bin in memory.

const crypto = require('crypto');
const zlib = require('zlib');
const { Writable } = require('stream');

// ---------- sealing of the hash list (stand-in for Vault's barrier seal) ----------
// Vault encrypts SHA256SUMS with the seal; opening it with another cluster's
// keys fails. Here: AES-256-GCM with the cluster's barrier key.
function sealHashes(barrierKey, sums) {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', barrierKey, iv);
  const ct = Buffer.concat([c.update(sums), c.final()]);
  return Buffer.from(JSON.stringify({
    ciphertext: Buffer.concat([ct, c.getAuthTag()]).toString('base64'),
    iv: iv.toString('base64'),
    key_info: { mechanism: 'aes-256-gcm', key_id: keyId(barrierKey) },
  }));
}

function openSealedHashes(barrierKey, sealed) {
  if (!sealed || sealed.length === 0) throw new Error('failed to open the sealed hashes: empty sealed hash file');
  try {
    const j = JSON.parse(sealed.toString('utf8'));
    const raw = Buffer.from(j.ciphertext, 'base64');
    const d = crypto.createDecipheriv('aes-256-gcm', barrierKey, Buffer.from(j.iv, 'base64'));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]);
  } catch (e) {
    throw new Error('failed to open the sealed hashes: cipher: message authentication failed');
  }
}

function keyId(key) { return crypto.createHash('sha256').update(key).digest('hex').slice(0, 16); }

// ---------- tar (ustar) ----------
function octal(n, width) { return n.toString(8).padStart(width - 1, '0') + '\0'; }

function tarHeader(name, size, mtime) {
  const h = Buffer.alloc(512, 0);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o600, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  // size: 11 octal digits fits < 8 GiB
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(mtime, 12), 136, 'latin1');
  h.fill(0x20, 148, 156); // checksum placeholder
  h.write('0', 156, 'latin1'); // regular file
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

function pad512(n) { const r = n % 512; return r === 0 ? 0 : 512 - r; }

// ---------- filler ----------
// The chunks tarStream yields that cannot be compressed (random filler).
const incompressible = new WeakSet();

function* fillerChunks(total, kind) {
  const CH = 1 << 20;
  if (kind === 'random') {
    // deterministic pseudo-random bytes: AES-256-CTR keystream with a fixed key
    const c = crypto.createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16, 0));
    const zeros = Buffer.alloc(CH);
    let left = total;
    while (left > 0) {
      const n = Math.min(CH, left);
      const chunk = c.update(n === CH ? zeros : zeros.subarray(0, n));
      incompressible.add(chunk);
      yield chunk;
      left -= n;
    }
    return;
  }
  const line = Buffer.from('vault-double deterministic snapshot filler..........................\n');
  const block = Buffer.alloc(CH);
  for (let i = 0; i < CH; i += line.length) line.copy(block, i);
  let left = total;
  while (left > 0) {
    const n = Math.min(CH, left);
    yield n === CH ? block : block.subarray(0, n);
    left -= n;
  }
}

// Build the snapshot as an async iterator of *uncompressed tar* buffers.
// opts: { stateJson (string), meta (object), padBytes, padKind, barrierKey,
//         omitSealed, emptySealed, badHash }
async function* tarStream(opts) {
  const mtime = Math.floor(Date.now() / 1000);
  const stateHead = Buffer.from(opts.stateJson + '\n', 'utf8');
  const pad = Math.max(0, Number(opts.padBytes) || 0);
  const stateSize = stateHead.length + pad;
  const meta = Object.assign({}, opts.meta, { Size: stateSize });
  const metaBuf = Buffer.from(JSON.stringify(meta));
  const metaHash = crypto.createHash('sha256').update(metaBuf).digest('hex');

  yield tarHeader('meta.json', metaBuf.length, mtime);
  yield Buffer.concat([metaBuf, Buffer.alloc(pad512(metaBuf.length))]);

  yield tarHeader('state.bin', stateSize, mtime);
  const sh = crypto.createHash('sha256');
  sh.update(stateHead);
  yield stateHead;
  for (const chunk of fillerChunks(pad, opts.padKind)) { sh.update(chunk); yield chunk; }
  const zp = pad512(stateSize);
  if (zp) yield Buffer.alloc(zp);
  const realHash = sh.digest('hex');
  // a bad-hash fault corrupts only SHA256SUMS; the sealed list keeps the true hash
  const stateHash = opts.badHash ? realHash.replace(/^./, (c) => (c === '0' ? '1' : '0')) : realHash;

  const sums = Buffer.from(`${metaHash}  meta.json\n${stateHash}  state.bin\n`);
  yield tarHeader('SHA256SUMS', sums.length, mtime);
  yield Buffer.concat([sums, Buffer.alloc(pad512(sums.length))]);

  if (!opts.omitSealed) {
    const sealed = opts.emptySealed ? Buffer.alloc(0) : sealHashes(opts.barrierKey, Buffer.from(`${metaHash}  meta.json\n${realHash}  state.bin\n`));
    yield tarHeader('SHA256SUMS.sealed', sealed.length, mtime);
    if (sealed.length) yield Buffer.concat([sealed, Buffer.alloc(pad512(sealed.length))]);
  }
  yield Buffer.alloc(1024); // end-of-archive
}

// ---------- gzip ----------
// One gzip member (RFC 1952) of the chunks, streamed.  Each chunk is deflated
// on its own and ends in a sync flush (RFC 1951 blocks that end on a byte
// boundary, so the next run starts afresh), except the chunks tarStream marks
// incompressible: those go into stored blocks (section 3.2.4), which deflate
// would end up writing for them anyway after ~25 MB/s of searching them for
// matches (CPU a real Vault spends on its own node, not on the machine that
// runs drctl).  An empty final stored block and the CRC-32 and size end it.
const STORED_MAX = 65535;
// CRC-32 of RFC 1952 section 8 (zlib.crc32 is Node 20.15 and later; Debian 12
// has Node 18).
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();
function crc32(buf, crc) {
  let c = ~crc;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

async function* gzipChunks(chunks, level) {
  yield Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]); // no name, mtime 0, Unix
  let crc = 0, size = 0;
  for await (const c of chunks) {
    crc = crc32(c, crc);
    size += c.length;
    if (!incompressible.has(c)) {
      yield zlib.deflateRawSync(c, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      continue;
    }
    for (let at = 0; at < c.length; at += STORED_MAX) {
      const piece = c.subarray(at, at + STORED_MAX);
      const head = Buffer.alloc(5); // BFINAL 0, BTYPE 00, then LEN and NLEN
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      yield head;
      yield piece;
    }
  }
  const tail = Buffer.from([1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
  tail.writeUInt32LE(crc >>> 0, 5);
  tail.writeUInt32LE(size % 0x100000000, 9);
  yield tail;
}

// ---------- reading ----------
function parseSums(buf) {
  const out = {};
  for (const line of buf.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const m = /^([0-9a-f]{64})  (.+)$/.exec(line);
    if (!m) throw new Error(`failed checking integrity of snapshot: malformed hash line "${line}"`);
    out[m[2]] = m[1];
  }
  return out;
}

function verifyList(computed, listBuf) {
  const list = parseSums(listBuf);
  for (const name of ['meta.json', 'state.bin']) {
    if (!list[name]) throw new Error(`failed checking integrity of snapshot: file missing from hashes: ${name}`);
    if (list[name] !== computed[name]) throw new Error(`failed checking integrity of snapshot: file "${name}" has an invalid hash`);
  }
}

class TarReader extends Writable {
  constructor(maxStateHead) {
    super({ highWaterMark: 1 << 20 });
    this.buf = Buffer.alloc(0);
    this.entry = null; // { name, size, left, pad }
    this.files = {};
    this.order = [];
    this.hashes = {};
    this.stateHead = [];
    this.stateHeadLen = 0;
    this.stateHeadDone = false;
    this.maxStateHead = maxStateHead || 256 * 1024 * 1024;
    this.eof = false;
  }

  _write(chunk, enc, cb) {
    try { this._consume(chunk); cb(); } catch (e) { cb(e); }
  }

  _final(cb) {
    if (this.entry && (this.entry.left > 0)) return cb(new Error('failed reading snapshot: unexpected EOF'));
    if (this.buf.length > 0 && !this.eof && this.buf.some((b) => b !== 0)) return cb(new Error('failed reading snapshot: unexpected EOF'));
    cb();
  }

  _consume(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.eof) { this.buf = Buffer.alloc(0); return; }
      if (!this.entry) {
        if (this.buf.length < 512) return;
        const h = this.buf.subarray(0, 512);
        this.buf = this.buf.subarray(512);
        if (h.every((b) => b === 0)) { this.eof = true; continue; }
        let sum = 0;
        for (let i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? 0x20 : h[i];
        const stored = parseInt(h.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(), 8);
        if (sum !== stored) throw new Error('failed reading snapshot: archive/tar: invalid tar header');
        const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
        const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
        if (!['meta.json', 'state.bin', 'SHA256SUMS', 'SHA256SUMS.sealed'].includes(name)) {
          throw new Error(`failed reading snapshot: unexpected file "${name}" in snapshot`);
        }
        this.entry = { name, size, left: size, pad: pad512(size), hash: crypto.createHash('sha256'), parts: [] };
        this.order.push(name);
        continue;
      }
      const e = this.entry;
      if (e.left > 0) {
        if (this.buf.length === 0) return;
        const n = Math.min(e.left, this.buf.length);
        const part = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        e.left -= n;
        e.hash.update(part);
        if (e.name === 'state.bin') this._stateHead(part);
        else {
          if (e.size > 8192 && e.name !== 'state.bin') throw new Error(`failed reading snapshot: read max specified bytes (8192) without EOF - possible truncation`);
          e.parts.push(Buffer.from(part));
        }
        continue;
      }
      if (e.pad > 0) {
        if (this.buf.length === 0) return;
        const n = Math.min(e.pad, this.buf.length);
        this.buf = this.buf.subarray(n);
        e.pad -= n;
        continue;
      }
      this.hashes[e.name] = e.hash.digest('hex');
      if (e.name !== 'state.bin') this.files[e.name] = Buffer.concat(e.parts);
      this.entry = null;
    }
  }

  _stateHead(part) {
    if (this.stateHeadDone) return;
    const nl = part.indexOf(10);
    const take = nl >= 0 ? part.subarray(0, nl) : part;
    this.stateHead.push(Buffer.from(take));
    this.stateHeadLen += take.length;
    if (nl >= 0) this.stateHeadDone = true;
    if (this.stateHeadLen > this.maxStateHead) throw new Error('failed reading snapshot: state too large for the double');
  }
}

// Read a snapshot from a readable stream. barrierKey: null to skip the seal
// check (snapshot-force). Resolves { meta, state, members } or rejects with an
// Error whose message follows Vault's wording; err.sealMismatch marks the
// "failed to open the sealed hashes" case.
function readSnapshot(input, barrierKey) {
  return new Promise((resolve, reject) => {
    const gunzip = zlib.createGunzip();
    const tr = new TarReader();
    let done = false;
    let compressedBytes = 0;
    const fail = (err) => {
      if (done) return; done = true;
      input.unpipe && input.unpipe(gunzip);
      input.resume && input.resume();
      gunzip.destroy(); tr.destroy();
      reject(err);
    };
    input.on('data', (d) => { compressedBytes += d.length; });
    input.on('error', (e) => fail(new Error(`failed to read snapshot file: ${e.message}`)));
    gunzip.on('error', (e) => fail(new Error(`failed to read snapshot file: failed to decompress snapshot: ${e.message === 'unexpected end of file' ? 'unexpected EOF' : e.message}`)));
    tr.on('error', (e) => fail(new Error(`failed to read snapshot file: ${e.message}`)));
    tr.on('finish', () => {
      if (done) return;
      try {
        if (compressedBytes === 0) throw new Error('failed to read snapshot file: failed to decompress snapshot: EOF');
        for (const n of ['meta.json', 'state.bin']) if (!(n in tr.hashes)) throw new Error(`failed to read snapshot file: failed checking integrity of snapshot: missing ${n}`);
        const computed = { 'meta.json': tr.hashes['meta.json'], 'state.bin': tr.hashes['state.bin'] };
        if (barrierKey) {
          let opened;
          try { opened = openSealedHashes(barrierKey, tr.files['SHA256SUMS.sealed']); } catch (e) {
            const err = new Error(`failed to read snapshot file: ${e.message}`); err.sealMismatch = true; throw err;
          }
          verifyList(computed, opened);
        }
        if (!tr.files['SHA256SUMS']) throw new Error('failed to read snapshot file: failed checking integrity of snapshot: missing SHA256SUMS');
        verifyList(computed, tr.files['SHA256SUMS']);
        let meta, state;
        try { meta = JSON.parse(tr.files['meta.json'].toString('utf8')); } catch (e) { throw new Error(`failed to read snapshot file: failed to decode snapshot metadata: ${e.message}`); }
        try { state = JSON.parse(Buffer.concat(tr.stateHead).toString('utf8')); } catch (e) { throw new Error(`failed to read snapshot file: state.bin is not a vault-double state: ${e.message}`); }
        done = true;
        resolve({ meta, state, members: tr.order, hashes: computed, compressedBytes });
      } catch (e) { fail(e); }
    });
    input.pipe(gunzip).pipe(tr);
  });
}

module.exports = { tarStream, gzipChunks, readSnapshot, sealHashes, openSealedHashes, keyId, tarHeader };
