#!/usr/bin/env node
'use strict';
// Vault HTTP API double for drctl's tests. See README.md next to this file for
// the behaviours covered, where each is specified, and the fault switches.
// No npm dependencies: the Node.js standard library only, as of Node 18 (Debian 12's).

const crypto = require('crypto');
const lib = require('../lib');
const snap = require('./snapshot');
const kv = require('./engines');

const FORMAT = 'vault-double-state/1';
const JSON_HDR = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
const PERM_DENIED_1 = '1 error occurred:\n\t* permission denied\n\n';
const PERM_DENIED_INVALID = '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n';
const UNSUPPORTED_OP = '1 error occurred:\n\t* unsupported operation\n\n';
const MISMATCH = 'could not verify hash file, possibly the snapshot is using a different set of unseal keys; use the snapshot-force API to bypass this check';

// ---------------------------------------------------------------- options
function usage() {
  return `usage: vault-double.js [options]
${lib.SERVER_USAGE}  --root-token T           root token (default "root")
  --kv-mount M             extra KV v2 mount (repeatable; "secret/" always exists)
  --kv1-mount M            KV v1 mount (default "kv/")
  --k8s-role NAME=POL1,POL2   Kubernetes auth role (repeatable)
  --k8s-jwt JWT            a service-account JWT that Kubernetes auth accepts (repeatable)
  --approle ROLE_ID:SECRET_ID[:POL1,POL2[:NAME]]  AppRole credentials (repeatable)
  --active-address URL     where a standby redirects snapshot requests
  --state S                active|standby|perfstandby|drsecondary|sealed|uninitialized
  --storage raft|inmem     inmem: raft endpoints answer 400 "raft storage is not in use"
  --cluster-seed S         derive cluster id, barrier key and unseal key from S (same seed = same cluster)
  --unseal-key B64         the cluster's single unseal key (base64 of 32 bytes)
  --snapshot-pad-bytes N   add N bytes of deterministic filler to state.bin
  --snapshot-pad-kind K    pattern (compressible, default) | random (incompressible)
  --restore-delay-ms N     background restore delay (300)
  --token-ttl S            TTL of login tokens in seconds (3600)
  --version V              version reported (1.17.2)
  --set KEY=JSON           any admin setting (see README), e.g. --set fail_next=2
`;
}

function parseArgs(args) {
  const { server, rest: argv } = lib.splitServerArgs(args);
  const o = {
    server, host: server.host, rootToken: 'root',
    kvMounts: ['secret/'], kv1Mounts: [], k8sRoles: {}, k8sJwts: [], approles: [], activeAddress: null, state: 'active',
    storage: 'raft', clusterSeed: null, unsealKey: null, padBytes: 0, padKind: 'pattern', restoreDelayMs: 300,
    tokenTtl: 3600, version: '1.17.2', sets: {},
  };
  const norm = (m) => (m.endsWith('/') ? m : m + '/');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    let name = a, val;
    if (a.startsWith('--') && eq > 0) { name = a.slice(0, eq); val = a.slice(eq + 1); }
    const next = () => { if (val !== undefined) return val; if (i + 1 >= argv.length) throw new Error(`${name} needs a value`); return argv[++i]; };
    switch (name) {
      case '--root-token': o.rootToken = next(); break;
      case '--kv-mount': o.kvMounts.push(norm(next())); break;
      case '--kv1-mount': o.kv1Mounts.push(norm(next())); break;
      case '--k8s-role': { const v = next(); const e = v.indexOf('='); o.k8sRoles[e < 0 ? v : v.slice(0, e)] = e < 0 ? ['default'] : v.slice(e + 1).split(',').filter(Boolean); break; }
      case '--k8s-jwt': o.k8sJwts.push(next()); break;
      case '--approle': { const [rid, sid, pols, rname] = next().split(':'); o.approles.push({ role_id: rid, secret_id: sid, policies: (pols || 'default').split(',').filter(Boolean), role_name: rname || 'drctl' }); break; }
      case '--active-address': o.activeAddress = next().replace(/\/+$/, ''); break;
      case '--state': o.state = next(); break;
      case '--storage': o.storage = next(); break;
      case '--cluster-seed': o.clusterSeed = next(); break;
      case '--unseal-key': o.unsealKey = next(); break;
      case '--snapshot-pad-bytes': o.padBytes = Number(next()); break;
      case '--snapshot-pad-kind': o.padKind = next(); break;
      case '--restore-delay-ms': o.restoreDelayMs = Number(next()); break;
      case '--token-ttl': o.tokenTtl = Number(next()); break;
      case '--version': o.version = next(); break;
      case '--set': { const v = next(); const e = v.indexOf('='); let j = v.slice(e + 1); try { j = JSON.parse(j); } catch (x) { /* keep string */ } o.sets[v.slice(0, e)] = j; break; }
      case '-h': case '--help': process.stdout.write(usage()); process.exit(0); break;
      default: throw new Error(`unknown option ${a}\n${usage()}`);
    }
  }
  if (o.kv1Mounts.length === 0) o.kv1Mounts.push('kv/');
  o.kvMounts = [...new Set(o.kvMounts)];
  return o;
}

// ---------------------------------------------------------------- helpers
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function rand62(n) { const b = crypto.randomBytes(n); let s = ''; for (let i = 0; i < n; i++) s += B62[b[i] % 62]; return s; }
function sha256hex(b) { return crypto.createHash('sha256').update(b).digest('hex'); }
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
function nowSec() { return Math.floor(Date.now() / 1000); }

class HttpError extends Error {
  constructor(status, errors) { super(errors.join('; ')); this.status = status; this.errors = errors; }
}

function sendJSON(res, status, obj) { res.send(status, JSON_HDR, JSON.stringify(obj) + '\n'); }
function sendErrors(res, status, errors) { sendJSON(res, status, { errors }); }
function sendNoContent(res) { res.send(204, { 'Cache-Control': 'no-store' }, null); }
function envelope(data, extra) {
  return Object.assign({ request_id: crypto.randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data: data === undefined ? null : data, wrap_info: null, warnings: null, auth: null, mount_type: '' }, extra || {});
}

function readBody(req, limit) {
  limit = limit || 32 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const parts = []; let n = 0;
    req.body.on('data', (d) => { n += d.length; if (n <= limit) parts.push(d); });
    req.body.on('end', () => (n > limit ? reject(new HttpError(413, ['request body too large'])) : resolve(Buffer.concat(parts))));
    req.body.on('error', reject);
  });
}
async function readJSON(req) {
  const b = await readBody(req);
  if (b.length === 0 || !b.toString('utf8').trim()) return {};
  try {
    const j = JSON.parse(b.toString('utf8'));
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new Error('body is not a JSON object');
    return j;
  } catch (e) { throw new HttpError(400, [`failed to parse JSON input: ${e.message}`]); }
}

// ---------------------------------------------------------------- cluster keys & state
function deriveKeys(seed, unsealKeyB64) {
  if (seed != null) {
    return {
      barrierKey: crypto.createHash('sha256').update('barrier:' + seed).digest(),
      unsealKeys: [unsealKeyB64 ? Buffer.from(unsealKeyB64, 'base64') : crypto.createHash('sha256').update('unseal:' + seed).digest()],
      clusterId: crypto.createHash('sha256').update('cluster:' + seed).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5'),
    };
  }
  return { barrierKey: crypto.randomBytes(32), unsealKeys: [unsealKeyB64 ? Buffer.from(unsealKeyB64, 'base64') : crypto.randomBytes(32)], clusterId: crypto.randomUUID() };
}

function sealSection(barrierKey, unsealKeys, threshold) {
  const hashes = unsealKeys.map(sha256hex);
  const kek = crypto.createHash('sha256').update(hashes.join(',')).digest();
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', kek, iv);
  const ct = Buffer.concat([c.update(barrierKey), c.final(), c.getAuthTag()]);
  return { type: 'shamir', secret_shares: unsealKeys.length, secret_threshold: threshold || 1, key_hashes: hashes, barrier_key_id: snap.keyId(barrierKey), barrier_key_enc: { iv: iv.toString('base64'), ct: ct.toString('base64') } };
}
function openSealSection(seal) {
  const kek = crypto.createHash('sha256').update(seal.key_hashes.join(',')).digest();
  const raw = Buffer.from(seal.barrier_key_enc.ct, 'base64');
  const d = crypto.createDecipheriv('aes-256-gcm', kek, Buffer.from(seal.barrier_key_enc.iv, 'base64'));
  d.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]);
}

const BUILTIN_POLICIES = {
  default: [
    { path: 'auth/token/lookup-self', capabilities: ['read'] },
    { path: 'auth/token/renew-self', capabilities: ['update'] },
    { path: 'auth/token/revoke-self', capabilities: ['update'] },
    { path: 'sys/capabilities-self', capabilities: ['update'] },
  ],
  'no-snapshot': [
    { path: '*', capabilities: ['create', 'read', 'update', 'delete', 'list'] },
    { path: 'sys/storage/raft/*', capabilities: ['deny'] },
  ],
  snapshot: [
    { path: 'sys/storage/raft/snapshot', capabilities: ['read', 'update'] },
    { path: 'sys/storage/raft/snapshot-force', capabilities: ['update'] },
  ],
  'kv-read': [
    { path: '+/data/*', capabilities: ['read'] },
    { path: '+/metadata/*', capabilities: ['read', 'list'] },
    { path: 'sys/mounts', capabilities: ['read'] },
  ],
  'drctl-backup': [
    { path: 'sys/storage/raft/snapshot', capabilities: ['read'] },
    { path: '+/data/*', capabilities: ['read'] },
    { path: '+/metadata/*', capabilities: ['read', 'list'] },
    { path: 'sys/mounts', capabilities: ['read'] },
    { path: 'transit/sign/*', capabilities: ['update'] },
    { path: 'transit/keys/*', capabilities: ['read'] },
  ],
};

function newToken(policies, extra) {
  const id = 'hvs.' + rand62(24);
  return Object.assign({
    id, accessor: rand62(24), policies: [...new Set(policies)].sort(), display_name: 'token', path: 'auth/token/create', meta: null,
    creation_time: nowSec(), creation_ttl: 0, expire_at: null, renewable: false, orphan: false, type: 'service', entity_id: '', num_uses: 0,
  }, extra || {});
}

function freshData(opts, keys) {
  const data = {
    format: FORMAT,
    cluster: { id: keys.clusterId, name: 'vault-cluster-' + keys.clusterId.slice(0, 8) },
    seal: sealSection(keys.barrierKey, keys.unsealKeys, 1),
    tokens: {},
    policies: {},
    kv: {}, kv1: {}, transit: { 'transit/': {} },
    mount_meta: {},
    auth: {
      kubernetes: { roles: {}, jwts: opts.k8sJwts.slice() },
      approle: { roles: {} },
    },
    raft_index: 1,
  };
  for (const m of opts.kvMounts) data.kv[m] = { keys: {}, config: { max_versions: 0, cas_required: false } };
  for (const m of opts.kv1Mounts) data.kv1[m] = {};
  for (const [name, pols] of Object.entries(opts.k8sRoles)) data.auth.kubernetes.roles[name] = { policies: pols };
  for (const a of opts.approles) data.auth.approle.roles[a.role_id] = a;
  const root = newToken(['root'], { id: opts.rootToken, display_name: 'root', path: 'auth/token/root', orphan: true });
  data.tokens[root.id] = root;
  for (const m of [...Object.keys(data.kv), ...Object.keys(data.kv1), 'transit/']) data.mount_meta[m] = { uuid: crypto.randomUUID(), accessor: 'mnt_' + rand62(8).toLowerCase() };
  return data;
}

// ---------------------------------------------------------------- node
const FAULT_DEFAULTS = {
  mode: 'active', // active | standby | perfstandby | drsecondary
  active_address: null,
  storage: 'raft',
  rate_limited: false, rate_limit_next: 0, retry_after: 1,
  fail_next: 0, fail_path_prefix: null, fail_status: 500,
  delay_ms: 0,
  snapshot_bps: 0, snapshot_cut_after_bytes: null,
  snapshot_omit_sealed: false, snapshot_empty_sealed: false, snapshot_bad_hash: false,
  snapshot_pad_bytes: 0, snapshot_pad_kind: 'pattern',
  restore_delay_ms: 300, restore_health: 'standby', restore_fail: false,
  token_ttl: 3600,
  version: '1.17.2',
};

class Node {
  constructor(opts) {
    this.opts = opts;
    this.faults = Object.assign({}, FAULT_DEFAULTS, {
      active_address: opts.activeAddress, storage: opts.storage, snapshot_pad_bytes: opts.padBytes,
      snapshot_pad_kind: opts.padKind, restore_delay_ms: opts.restoreDelayMs, token_ttl: opts.tokenTtl, version: opts.version,
    });
    const keys = deriveKeys(opts.clusterSeed, opts.unsealKey);
    this.barrierKey = keys.barrierKey;
    this.knownUnsealKeys = keys.unsealKeys; // what the double knows (for tests); not part of the state
    this.data = freshData(opts, keys);
    this.initialized = true;
    this.sealed = false;
    this.unsealProgress = [];
    this.restore = { in_progress: false, count: 0, last: null, pending_timer: null };
    this.dbl = null; // the lib's server (request log, generic faults), set by main()
    this.activeSince = new Date().toISOString();
    this.applySettings(this.stateOption(opts.state));
    this.applySettings(opts.sets);
  }

  stateOption(s) {
    switch (s) {
      case 'active': return {};
      case 'standby': case 'perfstandby': case 'drsecondary': return { mode: s };
      case 'sealed': return { sealed: true };
      case 'uninitialized': return { initialized: false };
      default: throw new Error(`unknown --state ${s}`);
    }
  }

  seal() { this.sealed = true; this.unsealProgress = []; }

  applySettings(s) {
    const out = [];
    for (const [k, v] of Object.entries(s || {})) {
      if (k in FAULT_DEFAULTS) { this.faults[k] = v; continue; }
      switch (k) {
        case 'sealed':
          if (v) this.seal();
          else { if (!this.barrierKey) this.barrierKey = openSealSection(this.data.seal); this.sealed = false; this.unsealProgress = []; }
          break;
        case 'initialized': this.initialized = !!v; if (!v) this.seal(); else if (v && this.barrierKey) this.sealed = false; break;
        case 'reset_faults':
          if (!v) break;
          Object.assign(this.faults, FAULT_DEFAULTS, { active_address: this.opts.activeAddress, storage: this.opts.storage, snapshot_pad_bytes: this.opts.padBytes, snapshot_pad_kind: this.opts.padKind, restore_delay_ms: this.opts.restoreDelayMs, token_ttl: this.opts.tokenTtl, version: this.opts.version });
          if (this.dbl) this.dbl.faults.clear();
          break;
        case 'clear_log': if (v && this.dbl) this.dbl.log.clear(); break;
        case 'tokens':
          for (const t of v) {
            const tok = newToken(t.no_default_policy ? (t.policies || []) : ['default', ...(t.policies || [])], { display_name: t.display_name || 'token' });
            if (t.id) tok.id = t.id;
            if (t.ttl) { tok.creation_ttl = t.ttl; tok.expire_at = Date.now() + t.ttl * 1000; tok.renewable = true; }
            this.data.tokens[tok.id] = tok;
            out.push(tok.id);
          }
          break;
        case 'policies': Object.assign(this.data.policies, v); break;
        case 'k8s_roles': for (const [n, p] of Object.entries(v)) this.data.auth.kubernetes.roles[n] = { policies: p }; break;
        case 'k8s_jwts': this.data.auth.kubernetes.jwts = v.slice(); break;
        case 'approles': for (const a of v) this.data.auth.approle.roles[a.role_id] = Object.assign({ policies: ['default'], role_name: 'drctl' }, a); break;
        case 'reinitialize': {
          // a brand-new cluster (new keys, empty storage); optional {"root_token":..,"cluster_seed":..}
          const o = Object.assign({}, this.opts, { rootToken: (v && v.root_token) || this.opts.rootToken });
          const keys = deriveKeys(v && v.cluster_seed != null ? v.cluster_seed : null, v && v.unseal_key);
          this.barrierKey = keys.barrierKey; this.knownUnsealKeys = keys.unsealKeys;
          this.data = freshData(o, keys); this.initialized = true; this.sealed = false; this.unsealProgress = [];
          break;
        }
        default: throw new HttpError(400, [`unknown setting "${k}"; known: ${[...Object.keys(FAULT_DEFAULTS), 'sealed', 'initialized', 'reset_faults', 'clear_log', 'tokens', 'policies', 'k8s_roles', 'k8s_jwts', 'approles', 'reinitialize'].join(', ')}`]);
      }
    }
    if (this.faults.mode && !['active', 'standby', 'perfstandby', 'drsecondary'].includes(this.faults.mode)) throw new HttpError(400, ['mode must be active|standby|perfstandby|drsecondary']);
    return out;
  }

  standbyStates() {
    if (this.restore.in_progress && this.faults.restore_health === 'standby') return [true, false];
    const m = this.faults.mode;
    return [m === 'standby' || m === 'perfstandby', m === 'perfstandby'];
  }
  isSealed() { return this.sealed || !this.initialized || (this.restore.in_progress && this.faults.restore_health === 'sealed'); }

  adminView() {
    return {
      initialized: this.initialized, sealed: this.sealed, faults: this.faults,
      cluster: this.data.cluster, root_token: this.opts.rootToken,
      unseal_keys_b64: this.knownUnsealKeys.map((k) => k.toString('base64')),
      barrier_key_id: this.barrierKey ? snap.keyId(this.barrierKey) : null,
      seal_key_id: this.data.seal.barrier_key_id,
      restore: { in_progress: this.restore.in_progress, count: this.restore.count, last: this.restore.last },
      raft_index: this.data.raft_index,
      mounts: { kv2: Object.keys(this.data.kv), kv1: Object.keys(this.data.kv1) },
      requests: this.dbl ? this.dbl.log.list() : [],
    };
  }
}

// ---------------------------------------------------------------- policy
function patternRe(p) {
  const glob = p.endsWith('*');
  const body = (glob ? p.slice(0, -1) : p).split('+').map((s) => s.replace(/[.*?^${}()|[\]\\]/g, '\\$&')).join('[^/]+');
  return new RegExp('^' + body + (glob ? '.*' : '') + '$');
}
function allowed(node, tok, path, cap) {
  if (tok.policies.includes('root')) return true;
  const rules = [];
  for (const pn of tok.policies) {
    const pol = node.data.policies[pn] || BUILTIN_POLICIES[pn];
    if (!pol) continue;
    for (const r of pol) if (patternRe(r.path).test(path)) rules.push(r);
  }
  if (!rules.length) return false;
  const spec = (r) => (r.path.endsWith('*') || r.path.includes('+') ? 0 : 1e6) + r.path.replace(/[*+]/g, '').length;
  const best = Math.max(...rules.map(spec));
  const caps = new Set(rules.filter((r) => spec(r) === best).flatMap((r) => r.capabilities));
  if (caps.has('deny')) return false;
  if (cap === 'write') return caps.has('create') || caps.has('update');
  return caps.has(cap);
}

// ---------------------------------------------------------------- handlers
function healthBody(node) {
  const [standby, perf] = node.standbyStates();
  const sealed = node.isSealed();
  const b = {
    initialized: node.initialized, sealed, standby, performance_standby: perf,
    replication_performance_mode: 'disabled',
    replication_dr_mode: node.faults.mode === 'drsecondary' ? 'secondary' : 'disabled',
    server_time_utc: nowSec(), version: node.faults.version,
  };
  if (!sealed) { b.cluster_name = node.data.cluster.name; b.cluster_id = node.data.cluster.id; }
  return b;
}

function handleHealth(node, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendErrors(res, 405, []);
  const q = req.query;
  const boolParam = (name) => {
    if (!q.has(name)) return false;
    const v = q.getAll(name)[0];
    if (v === '') return false; // mapstructure.WeakDecode("") -> false
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
    return null;
  };
  const standbyOk = boolParam('standbyok');
  const perfOk = boolParam('perfstandbyok');
  const bad = () => (req.method === 'HEAD' ? res.send(400, {}, null) : sendErrors(res, 400, []));
  if (standbyOk === null || perfOk === null) return bad();
  const codes = { uninitcode: 501, sealedcode: 503, standbycode: 429, activecode: 200, drsecondarycode: 472, performancestandbycode: 473 };
  for (const k of Object.keys(codes)) {
    if (!q.has(k)) continue;
    const v = q.getAll(k)[0];
    if (!/^[+-]?\d+$/.test(v)) return bad();
    codes[k] = Number(v);
  }
  const [standby, perf] = node.standbyStates();
  let code = codes.activecode;
  if (!node.initialized) code = codes.uninitcode;
  else if (node.isSealed()) code = codes.sealedcode;
  else if (node.faults.mode === 'drsecondary') code = codes.drsecondarycode;
  else if (perf) { if (!perfOk) code = codes.performancestandbycode; }
  else if (standby) { if (!standbyOk) code = codes.standbycode; }
  // Go's net/http panics on a status outside 100..999: the connection is dropped.
  if (code < 100 || code > 999) return res.destroy();
  const body = JSON.stringify(healthBody(node)) + '\n';
  res.send(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }, req.method === 'HEAD' ? null : body);
}

function sealStatus(node) {
  const s = node.data.seal;
  const b = {
    type: 'shamir', initialized: node.initialized, sealed: node.isSealed(), t: node.initialized ? s.secret_threshold : 0, n: node.initialized ? s.secret_shares : 0,
    progress: node.unsealProgress.length, nonce: node.unsealProgress.length ? 'vault-double-nonce' : '', version: node.faults.version,
    build_date: '2024-07-05T15:19:12Z', migration: false, recovery_seal: false, storage_type: node.faults.storage,
  };
  if (!b.sealed) { b.cluster_name = node.data.cluster.name; b.cluster_id = node.data.cluster.id; }
  return b;
}

async function handleUnauthSys(node, p, req, res) {
  if (p === 'sys/seal-status') return sendJSON(res, 200, sealStatus(node));
  if (p === 'sys/unseal') {
    if (req.method !== 'PUT' && req.method !== 'POST') return sendErrors(res, 405, []);
    const body = await readJSON(req);
    if (!node.initialized) return sendErrors(res, 400, ['Vault is not initialized']);
    if (body.reset) { node.unsealProgress = []; return sendJSON(res, 200, sealStatus(node)); }
    if (!node.sealed) return sendJSON(res, 200, sealStatus(node));
    if (!body.key) return sendErrors(res, 400, ["'key' must be specified in request body as JSON, or 'reset' set to true"]);
    let raw = /^[0-9a-fA-F]+$/.test(body.key) && body.key.length % 2 === 0 ? Buffer.from(body.key, 'hex') : Buffer.from(body.key, 'base64');
    const h = sha256hex(raw);
    if (!node.data.seal.key_hashes.includes(h)) { node.unsealProgress = []; return sendErrors(res, 400, ['cipher: message authentication failed']); }
    if (!node.unsealProgress.includes(h)) node.unsealProgress.push(h);
    if (node.unsealProgress.length >= node.data.seal.secret_threshold) {
      node.barrierKey = openSealSection(node.data.seal);
      node.sealed = false; node.unsealProgress = [];
      if (node.knownUnsealKeys.every((k) => !node.data.seal.key_hashes.includes(sha256hex(k)))) node.knownUnsealKeys = [raw];
    }
    return sendJSON(res, 200, sealStatus(node));
  }
  if (p === 'sys/init') {
    if (req.method === 'GET') return sendJSON(res, 200, { initialized: node.initialized });
    if (req.method !== 'PUT' && req.method !== 'POST') return sendErrors(res, 405, []);
    const body = await readJSON(req);
    if (node.initialized) return sendErrors(res, 400, ['Vault is already initialized']);
    const n = Number(body.secret_shares || 0), t = Number(body.secret_threshold || 0);
    if (n < 1 || t < 1 || t > n) return sendErrors(res, 400, ['invalid seal configuration: threshold must be between 1 and the number of shares']);
    const keys = { barrierKey: crypto.randomBytes(32), unsealKeys: Array.from({ length: n }, () => crypto.randomBytes(32)), clusterId: crypto.randomUUID() };
    const root = 'hvs.' + rand62(24);
    node.data = freshData(Object.assign({}, node.opts, { rootToken: root }), keys);
    node.data.seal = sealSection(keys.barrierKey, keys.unsealKeys, t);
    node.barrierKey = null; node.knownUnsealKeys = keys.unsealKeys; node.initialized = true; node.seal();
    return sendJSON(res, 200, { keys: keys.unsealKeys.map((k) => k.toString('hex')), keys_base64: keys.unsealKeys.map((k) => k.toString('base64')), root_token: root });
  }
  if (p === 'sys/leader') {
    if (node.isSealed()) return sendErrors(res, 503, ['Vault is sealed']);
    const [standby, perf] = node.standbyStates();
    const self = `${node.scheme}://${node.opts.host}:${node.port}`;
    return sendJSON(res, 200, {
      ha_enabled: true, is_self: !standby, active_time: standby ? '0001-01-01T00:00:00Z' : node.activeSince,
      leader_address: standby ? (node.faults.active_address || '') : self, leader_cluster_address: standby ? '' : `https://${node.opts.host}:${node.port + 1}`,
      performance_standby: perf, performance_standby_last_remote_wal: 0, raft_committed_index: node.data.raft_index, raft_applied_index: node.data.raft_index,
    });
  }
  return null;
}

// ---- snapshots
function drainOrClose(stream) {
  return new Promise((resolve) => {
    const done = () => { stream.off('drain', done); stream.off('close', done); resolve(); };
    stream.on('drain', done); stream.on('close', done);
  });
}

async function snapshotGet(node, req, res) {
  const f = node.faults;
  const stateJson = JSON.stringify(node.data); // point-in-time copy
  const meta = {
    Version: 1, ID: `2-${node.data.raft_index}-${Date.now()}`, Index: node.data.raft_index, Term: 2,
    Peers: 'ka5ub2RlMQ==', Configuration: { Servers: [{ Suffrage: 0, ID: 'node1', Address: `${node.opts.host}:${node.port + 1}` }] }, ConfigurationIndex: 1,
  };
  const pad = Number(f.snapshot_pad_bytes) || 0;
  const body = snap.gzipChunks(snap.tarStream({
    stateJson, meta, padBytes: pad, padKind: f.snapshot_pad_kind, barrierKey: node.barrierKey,
    omitSealed: f.snapshot_omit_sealed, emptySealed: f.snapshot_empty_sealed, badHash: f.snapshot_bad_hash,
  }), pad > 16 * 1024 * 1024 ? 1 : 6);
  res.startStream(200, { 'Content-Type': 'application/gzip', 'Content-Disposition': 'attachment', 'Cache-Control': 'no-store' });
  const socket = res.socket;
  const cut = f.snapshot_cut_after_bytes == null ? null : Number(f.snapshot_cut_after_bytes);
  const bps = Number(f.snapshot_bps) || 0;
  let sent = 0;
  for await (const chunk of body) {
    let c = chunk;
    while (c.length) {
      if (socket.destroyed) return;
      let piece = bps ? c.subarray(0, Math.max(1, Math.min(c.length, Math.ceil(bps / 20)))) : c;
      if (cut != null && sent + piece.length >= cut) {
        const n = Math.max(0, cut - sent);
        if (n > 0) res.write(piece.subarray(0, n));
        sent += n;
        res.destroy(); // status 200 already sent: the client sees a truncated body
        return;
      }
      const ok = res.write(piece);
      sent += piece.length;
      c = c.subarray(piece.length);
      if (!ok) await drainOrClose(socket);
      if (bps) await sleep((piece.length * 1000) / bps);
    }
  }
  res.end();
}

async function snapshotPost(node, req, res, force) {
  let r;
  try {
    r = await snap.readSnapshot(req.body, force ? null : node.barrierKey);
    if (!r.state || r.state.format !== FORMAT) throw new Error('failed to read snapshot file: state.bin is not a vault-double state');
  } catch (e) {
    if (e.sealMismatch) return sendErrors(res, 400, [MISMATCH]);
    return sendErrors(res, 500, [`1 error occurred:\n\t* ${e.message}\n\n`]);
  }
  sendNoContent(res);
  const st = r.state;
  node.restore.in_progress = true;
  if (node.restore.pending_timer) clearTimeout(node.restore.pending_timer);
  node.restore.pending_timer = setTimeout(() => {
    node.restore.pending_timer = null;
    node.restore.in_progress = false;
    node.restore.count++;
    if (node.faults.restore_fail) {
      node.seal();
      node.restore.last = { ok: false, force, at: new Date().toISOString(), error: 'restore failed (restore_fail fault); node sealed itself' };
      return;
    }
    const sameKeys = node.barrierKey && st.seal.barrier_key_id === snap.keyId(node.barrierKey);
    node.data = st;
    node.data.raft_index = (st.raft_index || 1) + 1;
    let sealedAfter = false;
    if (!sameKeys) { node.barrierKey = null; node.seal(); sealedAfter = true; }
    node.restore.last = { ok: true, force, at: new Date().toISOString(), sealed_after: sealedAfter, members: r.members, snapshot_index: r.meta.Index, cluster_id: st.cluster.id };
  }, Number(node.faults.restore_delay_ms) || 0);
}

// ---- tokens & logins
function tokenView(t) {
  const ttl = t.expire_at ? Math.max(0, Math.round((t.expire_at - Date.now()) / 1000)) : 0;
  return {
    accessor: t.accessor, creation_time: t.creation_time, creation_ttl: t.creation_ttl, display_name: t.display_name, entity_id: t.entity_id,
    expire_time: t.expire_at ? new Date(t.expire_at).toISOString() : null, explicit_max_ttl: 0, id: t.id,
    issue_time: new Date(t.creation_time * 1000).toISOString(), meta: t.meta, num_uses: t.num_uses, orphan: t.orphan, path: t.path,
    policies: t.policies, renewable: t.renewable, ttl, type: t.type,
  };
}
function authBlock(t) {
  return {
    client_token: t.id, accessor: t.accessor, policies: t.policies, token_policies: t.policies, metadata: t.meta,
    lease_duration: t.creation_ttl, renewable: t.renewable, entity_id: t.entity_id, token_type: t.type, orphan: t.orphan, mfa_requirement: null, num_uses: 0,
  };
}
function mintLoginToken(node, policies, meta, path, display) {
  const ttl = Number(node.faults.token_ttl) || 0;
  const t = newToken(['default', ...policies], { meta, path, display_name: display, creation_ttl: ttl, expire_at: ttl ? Date.now() + ttl * 1000 : null, renewable: true, orphan: true, entity_id: crypto.randomUUID() });
  node.data.tokens[t.id] = t;
  node.data.raft_index++;
  return t;
}

async function handleLogin(node, p, req, res) {
  if (req.method !== 'POST' && req.method !== 'PUT') return sendErrors(res, 405, [UNSUPPORTED_OP]);
  const body = await readJSON(req);
  if (p === 'auth/kubernetes/login') {
    if (!body.role) return sendErrors(res, 400, ['missing role']);
    if (!body.jwt) return sendErrors(res, 400, ['missing jwt']);
    const role = node.data.auth.kubernetes.roles[body.role];
    if (!role) return sendErrors(res, 400, [`invalid role name "${body.role}"`]);
    if (!node.data.auth.kubernetes.jwts.includes(body.jwt)) return sendErrors(res, 403, ['permission denied']);
    const t = mintLoginToken(node, role.policies, { role: body.role, service_account_name: 'drctl', service_account_namespace: 'default', service_account_secret_name: '', service_account_uid: '00000000-0000-0000-0000-000000000001' }, 'auth/kubernetes/login', 'kubernetes-default-drctl');
    return sendJSON(res, 200, envelope(null, { auth: authBlock(t) }));
  }
  // approle
  if (!body.role_id) return sendErrors(res, 400, ['missing role_id']);
  const role = node.data.auth.approle.roles[body.role_id];
  if (!role || role.secret_id !== body.secret_id) return sendErrors(res, 400, ['invalid role or secret ID']);
  const t = mintLoginToken(node, role.policies, { role_name: role.role_name }, 'auth/approle/login', 'approle');
  return sendJSON(res, 200, envelope(null, { auth: authBlock(t) }));
}

async function handleToken(node, tok, p, req, res) {
  if (p === 'auth/token/lookup-self') {
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'PUT') return sendErrors(res, 405, [UNSUPPORTED_OP]);
    return sendJSON(res, 200, envelope(tokenView(tok)));
  }
  if (p === 'auth/token/renew-self') {
    if (!tok.renewable) return sendErrors(res, 400, ['lease is not renewable']);
    tok.expire_at = Date.now() + tok.creation_ttl * 1000;
    return sendJSON(res, 200, envelope(null, { auth: authBlock(tok) }));
  }
  delete node.data.tokens[tok.id];
  return sendNoContent(res);
}

// The token store's accessor endpoints (Vault's token_store.go): LIST
// accessors is a root path (sudo), lookup-accessor and revoke-accessor take
// {"accessor"} on POST/PUT only; an unknown accessor is 400 "invalid
// accessor", a missing one 400 "missing accessor"; a lookup blanks the id.
function liveToken(t) { return !(t.expire_at && t.expire_at <= Date.now()); }
function byAccessor(node, accessor) {
  return Object.values(node.data.tokens).find((t) => t.accessor === accessor && liveToken(t)) || null;
}
async function handleTokenStore(node, tok, p, op, req, res) {
  if (p === 'auth/token/accessors' || p === 'auth/token/accessors/') {
    if (op !== 'list') return sendErrors(res, 405, [UNSUPPORTED_OP]);
    if (!allowed(node, tok, 'auth/token/accessors/', 'sudo') && !allowed(node, tok, 'auth/token/accessors', 'sudo')) return sendErrors(res, 403, [PERM_DENIED_1]);
    const keys = Object.values(node.data.tokens).filter(liveToken).map((t) => t.accessor).sort();
    if (!keys.length) return sendErrors(res, 404, []);
    return sendJSON(res, 200, envelope({ keys }));
  }
  if (p === 'auth/token/lookup-accessor' || p === 'auth/token/revoke-accessor') {
    if (op !== 'write') return sendErrors(res, 405, [UNSUPPORTED_OP]);
    const body = await readJSON(req);
    if (!body.accessor) return sendErrors(res, 400, ['missing accessor']);
    const t = byAccessor(node, String(body.accessor));
    if (!t) return sendErrors(res, 400, ['invalid accessor']);
    if (p === 'auth/token/lookup-accessor') return sendJSON(res, 200, envelope(Object.assign(tokenView(t), { id: '' })));
    delete node.data.tokens[t.id];
    node.data.raft_index++;
    return sendNoContent(res);
  }
  return null;
}

function mountEntry(node, m, type, options, desc) {
  const mm = node.data.mount_meta[m] || { uuid: crypto.randomUUID(), accessor: type + '_' + rand62(8).toLowerCase() };
  return {
    accessor: mm.accessor, config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 }, description: desc, external_entropy_access: false,
    local: false, options, plugin_version: '', running_plugin_version: type === 'kv' ? 'v0.19.0+builtin' : `v${node.faults.version}+builtin.vault`,
    running_sha256: '', seal_wrap: false, type, uuid: mm.uuid,
  };
}
function handleMounts(node, req, res) {
  if (req.method !== 'GET') return sendErrors(res, 405, [UNSUPPORTED_OP]);
  const d = {};
  d['cubbyhole/'] = mountEntry(node, 'cubbyhole/', 'cubbyhole', null, 'per-token private secret storage');
  d['identity/'] = mountEntry(node, 'identity/', 'identity', null, 'identity store');
  for (const m of Object.keys(node.data.kv)) d[m] = mountEntry(node, m, 'kv', { version: '2' }, 'key/value secret storage');
  for (const m of Object.keys(node.data.kv1)) d[m] = mountEntry(node, m, 'kv', null, 'key/value secret storage (v1)');
  for (const m of Object.keys(node.data.transit)) d[m] = mountEntry(node, m, 'transit', null, '');
  d['sys/'] = mountEntry(node, 'sys/', 'system', null, 'system endpoints used for control, policy and debugging');
  // Vault repeats the mount table at the top level for older clients
  return sendJSON(res, 200, Object.assign({}, d, envelope(d)));
}

// ---------------------------------------------------------------- main dispatcher
function opFor(req) {
  const m = req.method;
  if (m === 'LIST' || (m === 'GET' && ['true', '1', 't', 'True', 'TRUE'].includes(req.query.get('list') || ''))) return 'list';
  if (m === 'GET') return 'read';
  if (m === 'POST' || m === 'PUT') return 'write';
  if (m === 'DELETE') return 'delete';
  if (m === 'PATCH') return 'patch';
  return null;
}

function tokenFrom(req) {
  if (req.headers['x-vault-token']) return { token: req.headers['x-vault-token'], source: 'x-vault-token' };
  const a = req.headers['authorization'] || '';
  const m = /^Bearer\s+(.+)$/i.exec(a);
  if (m) return { token: m[1].trim(), source: 'bearer' };
  return { token: null, source: null };
}

const TOKEN_SELF = new Set(['auth/token/lookup-self', 'auth/token/renew-self', 'auth/token/revoke-self']);
const EXEMPT_QUOTA = new Set(['sys/health', 'sys/seal-status', 'sys/unseal']);
const SNAPSHOT_PATHS = new Set(['sys/storage/raft/snapshot', 'sys/storage/raft/snapshot-force']);

async function handleV1(node, p, req, res) {
  const f = node.faults;
  if (f.delay_ms) await sleep(Number(f.delay_ms));
  if (f.fail_next > 0 && p !== 'sys/health' && (!f.fail_path_prefix || p.startsWith(f.fail_path_prefix))) {
    f.fail_next--;
    return sendErrors(res, Number(f.fail_status) || 500, ['internal error']);
  }
  if (!EXEMPT_QUOTA.has(p) && (f.rate_limited || f.rate_limit_next > 0)) {
    if (f.rate_limit_next > 0) f.rate_limit_next--;
    res.send(429, Object.assign({}, JSON_HDR, { 'Retry-After': String(f.retry_after) }), JSON.stringify({ errors: [`request path "${p}": rate limit quota exceeded`] }) + '\n');
    return;
  }
  if (p === 'sys/health') return handleHealth(node, req, res);
  const u = await handleUnauthSys(node, p, req, res);
  if (u !== null && u !== undefined) return;
  if (res.finished) return;

  if (node.isSealed()) return sendErrors(res, 503, ['Vault is sealed']);
  if (node.restore.in_progress && node.faults.restore_health === 'standby') return sendErrors(res, 500, ['local node not active but active cluster node not found']);
  const [standby] = node.standbyStates();
  if (standby && SNAPSHOT_PATHS.has(p)) {
    if (!f.active_address) return sendErrors(res, 500, ['local node not active but active cluster node not found']);
    const loc = f.active_address + req.target;
    return res.send(307, { Location: loc, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }, `<a href="${loc}">Temporary Redirect</a>.\n\n`);
  }
  const op = opFor(req);
  if (!op) return sendErrors(res, 405, []);

  if (p === 'auth/kubernetes/login' || p === 'auth/approle/login') return handleLogin(node, p, req, res);

  // token
  const { token } = tokenFrom(req);
  if (!token) return sendErrors(res, 403, [PERM_DENIED_1]);
  const tok = node.data.tokens[token];
  if (!tok || (tok.expire_at && tok.expire_at <= Date.now())) return sendErrors(res, 403, [PERM_DENIED_INVALID]);
  const cap = op === 'patch' ? 'patch' : op;
  if (TOKEN_SELF.has(p)) {
    if (!tok.policies.includes('default') && !allowed(node, tok, p, 'read') && !allowed(node, tok, p, 'write')) return sendErrors(res, 403, [PERM_DENIED_1]);
    return handleToken(node, tok, p, req, res);
  }
  if (!allowed(node, tok, p, cap)) return sendErrors(res, 403, [PERM_DENIED_1]);

  if (SNAPSHOT_PATHS.has(p)) {
    if (f.storage !== 'raft') return sendErrors(res, 400, ['raft storage is not in use']);
    if (p === 'sys/storage/raft/snapshot') {
      if (req.method === 'GET') return snapshotGet(node, req, res);
      if (req.method === 'POST' || req.method === 'PUT') return snapshotPost(node, req, res, false);
      return sendErrors(res, 405, [UNSUPPORTED_OP]);
    }
    if (req.method === 'POST' || req.method === 'PUT') return snapshotPost(node, req, res, true);
    return sendErrors(res, 405, [UNSUPPORTED_OP]);
  }
  if (p.startsWith('auth/token/')) {
    const t = await handleTokenStore(node, tok, p, op, req, res);
    if (t !== null) return;
  }
  if (p === 'sys/mounts') return handleMounts(node, req, res);
  if (p === 'sys/seal') {
    if (op !== 'write') return sendErrors(res, 405, [UNSUPPORTED_OP]);
    node.seal(); return sendNoContent(res);
  }
  const handled = await kv.dispatch(node, p, op, req, res, { sendJSON, sendErrors, sendNoContent, envelope, readJSON, UNSUPPORTED_OP });
  if (handled) return;
  const first = p.split('/')[0];
  const mounted = [...Object.keys(node.data.kv), ...Object.keys(node.data.kv1), ...Object.keys(node.data.transit), 'sys/', 'auth/', 'cubbyhole/', 'identity/'].some((m) => (p + '/').startsWith(m));
  if (mounted) return sendErrors(res, 404, ['1 error occurred:\n\t* unsupported path\n\n']);
  return sendErrors(res, 404, [`no handler for route "${p}". route entry not found.`]);
}

// ---------------------------------------------------------------- admin endpoint and server
// The lib serves /__double/health, /__double/log, /__double/faults and
// /__double/reset; the Vault double adds its node state.
function adminRoutes(node) {
  const getState = (req, res) => sendJSON(res, 200, node.adminView());
  const setState = async (req, res) => {
    const body = await readJSON(req);
    const created = node.applySettings(body);
    const v = node.adminView();
    v.created_tokens = created;
    delete v.requests;
    return sendJSON(res, 200, v);
  };
  return { 'GET /state': getState, 'GET /state/': getState, 'POST,PUT /state': setState, 'POST,PUT /state/': setState };
}

// Vault's own fields of a request log entry (the lib records method, path,
// headers, sizes, status; secret headers only as present or absent).
function logFields(req) {
  const t = tokenFrom(req);
  return {
    namespace: req.headers['x-vault-namespace'] || null, token_present: !!t.token, token_source: t.source,
    vault_request_header: req.headers['x-vault-request'] || null,
  };
}

function makeHandler(node) {
  return async (req, res) => {
    try {
      if (!req.path.startsWith('/v1/')) return sendErrors(res, 404, []);
      return await handleV1(node, req.path.slice(4).replace(/^\/+/, ''), req, res);
    } catch (e) {
      if (res.finished) return;
      if (e instanceof HttpError) return sendErrors(res, e.status, e.errors);
      if (res.headersSent) return res.destroy();
      return sendErrors(res, 500, [`1 error occurred:\n\t* ${e.message}\n\n`]);
    }
  };
}

function main() {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { process.stderr.write(String(e.message) + '\n'); process.exit(2); }
  const node = new Node(opts);
  const dbl = lib.createDouble({
    name: 'vault',
    server: opts.server,
    handler: makeHandler(node),
    // Today's clients of the double expect 100 Continue before the handler
    // runs (Vault itself, Go's net/http, sends it on the first body read).
    expectContinue: 'immediate',
    errorBody: (status, message) => ({ headers: JSON_HDR, body: JSON.stringify({ errors: [message] }) + '\n' }),
    logHeaders: ['x-vault-namespace', 'x-vault-request', 'x-vault-wrap-ttl', 'content-type', 'user-agent'],
    logFields,
    admin: adminRoutes(node),
    onReset: () => { node.applySettings({ reset_faults: true }); },
  });
  node.dbl = dbl;
  node.scheme = dbl.scheme;
  dbl.run().then(() => { node.port = dbl.port; });
}

if (require.main === module) main();
module.exports = { parseArgs, Node, makeHandler, FORMAT };
