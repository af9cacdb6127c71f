'use strict';
// Secrets engines of the Vault double: KV v2 (hashicorp/vault-plugin-secrets-kv
// path_data.go / path_metadata.go behaviour), KV v1, and Transit (ed25519 keys).

const crypto = require('crypto');

function now() { return new Date().toISOString(); }
function weakInt(v) {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}
function isDeleted(vm) { return !!vm.deletion_time && Date.parse(vm.deletion_time) <= Date.now(); }
function listKeys(names, prefix) {
  const out = new Set();
  for (const k of names) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    if (!rest) continue;
    const i = rest.indexOf('/');
    out.add(i >= 0 ? rest.slice(0, i + 1) : rest);
  }
  return [...out].sort();
}

// ---------------------------------------------------------------- KV v2
async function kv2(node, mount, sub, op, req, res, h) {
  const store = node.data.kv[mount];
  const env = (data, extra) => h.envelope(data, Object.assign({ mount_type: 'kv' }, extra || {}));
  const m = /^(data|metadata|delete|undelete|destroy|config)(?:\/(.*))?$/.exec(sub);
  if (!m) return false;
  const kind = m[1];
  const key = m[2] || '';

  if (kind === 'config') {
    if (key) return false;
    if (op === 'read') return h.sendJSON(res, 200, env({ cas_required: store.config.cas_required, delete_version_after: '0s', max_versions: store.config.max_versions }));
    if (op === 'write') {
      const b = await h.readJSON(req);
      if (b.max_versions !== undefined) store.config.max_versions = weakInt(b.max_versions) || 0;
      if (b.cas_required !== undefined) store.config.cas_required = !!b.cas_required;
      node.data.raft_index++;
      return h.sendNoContent(res);
    }
    return h.sendErrors(res, 405, [h.UNSUPPORTED_OP]);
  }

  if (kind === 'metadata') {
    if (op === 'list') {
      const prefix = key === '' || key.endsWith('/') ? key : key + '/';
      const keys = listKeys(Object.keys(store.keys), prefix);
      if (!keys.length) return h.sendErrors(res, 404, []);
      return h.sendJSON(res, 200, env({ keys }));
    }
    if (!key || key.endsWith('/')) return h.sendErrors(res, 405, [h.UNSUPPORTED_OP]);
    const meta = store.keys[key];
    if (op === 'read') {
      if (!meta) return h.sendErrors(res, 404, []);
      const versions = {};
      for (const [n, v] of Object.entries(meta.versions)) versions[n] = { created_time: v.created_time, deletion_time: v.deletion_time, destroyed: v.destroyed };
      return h.sendJSON(res, 200, env({
        cas_required: meta.cas_required, created_time: meta.created_time, current_version: meta.current_version,
        custom_metadata: meta.custom_metadata, delete_version_after: meta.delete_version_after, max_versions: meta.max_versions,
        oldest_version: meta.oldest_version, updated_time: meta.updated_time, versions,
      }));
    }
    if (op === 'write') {
      const b = await h.readJSON(req);
      const mm = store.keys[key] || newMeta();
      if (b.max_versions !== undefined) mm.max_versions = weakInt(b.max_versions) || 0;
      if (b.cas_required !== undefined) mm.cas_required = !!b.cas_required;
      if (b.custom_metadata !== undefined) mm.custom_metadata = b.custom_metadata;
      if (b.delete_version_after !== undefined) mm.delete_version_after = String(b.delete_version_after);
      mm.updated_time = now();
      store.keys[key] = mm;
      node.data.raft_index++;
      return h.sendNoContent(res);
    }
    if (op === 'delete') { delete store.keys[key]; node.data.raft_index++; return h.sendNoContent(res); }
    return h.sendErrors(res, 405, [h.UNSUPPORTED_OP]);
  }

  // data and version operations need a key without trailing slash
  if (!key || key.endsWith('/')) return false;

  if (kind === 'data') {
    if (op === 'read') {
      const meta = store.keys[key];
      if (!meta) return h.sendErrors(res, 404, []);
      let ver = meta.current_version;
      if (req.query.has('version')) {
        const v = weakInt(req.query.get('version'));
        if (v === null) return h.sendErrors(res, 400, [`error converting input ${req.query.get('version')} for field "version"`]);
        if (v > 0) ver = v;
      }
      const vm = meta.versions[ver];
      if (!vm) return h.sendErrors(res, 404, []);
      const metadata = { created_time: vm.created_time, custom_metadata: meta.custom_metadata, deletion_time: vm.deletion_time, destroyed: vm.destroyed, version: ver };
      if (isDeleted(vm) || vm.destroyed) return h.sendJSON(res, 404, env({ data: null, metadata }));
      return h.sendJSON(res, 200, env({ data: vm.data, metadata }));
    }
    if (op === 'write') {
      const b = await h.readJSON(req);
      if (b.data === undefined || b.data === null) return h.sendErrors(res, 400, ['no data provided']);
      if (typeof b.data !== 'object' || Array.isArray(b.data)) return h.sendErrors(res, 400, ['error converting input for field "data": expected a map']);
      const meta = store.keys[key] || newMeta();
      const opts = b.options && typeof b.options === 'object' ? b.options : null;
      if (opts && 'cas' in opts) {
        const cas = weakInt(opts.cas);
        if (cas === null) return h.sendErrors(res, 400, ['error parsing check-and-set parameter']);
        if (cas !== meta.current_version) return h.sendErrors(res, 400, ['check-and-set parameter did not match the current version']);
      } else if (store.config.cas_required || meta.cas_required) {
        return h.sendErrors(res, 400, ['check-and-set parameter required for this call']);
      }
      const ver = meta.current_version + 1;
      const t = now();
      meta.versions[ver] = { created_time: t, deletion_time: '', destroyed: false, data: b.data };
      meta.current_version = ver;
      meta.updated_time = t;
      if (!meta.created_time) meta.created_time = t;
      const max = meta.max_versions || store.config.max_versions || 10;
      const nums = Object.keys(meta.versions).map(Number).sort((a, c) => a - c);
      while (nums.length > max) { delete meta.versions[nums.shift()]; meta.oldest_version = nums[0]; }
      store.keys[key] = meta;
      node.data.raft_index++;
      return h.sendJSON(res, 200, env({ created_time: t, custom_metadata: meta.custom_metadata, deletion_time: '', destroyed: false, version: ver }));
    }
    if (op === 'delete') {
      const meta = store.keys[key];
      if (meta && meta.versions[meta.current_version] && !meta.versions[meta.current_version].deletion_time) {
        meta.versions[meta.current_version].deletion_time = now();
        node.data.raft_index++;
      }
      return h.sendNoContent(res);
    }
    return h.sendErrors(res, 405, [h.UNSUPPORTED_OP]);
  }

  // delete / undelete / destroy with {"versions":[...]}
  if (op !== 'write') return h.sendErrors(res, 405, [h.UNSUPPORTED_OP]);
  const b = await h.readJSON(req);
  if (!Array.isArray(b.versions) || b.versions.length === 0) return h.sendErrors(res, 400, ['no version number provided']);
  const meta = store.keys[key];
  if (meta) {
    for (const n of b.versions.map(weakInt)) {
      const vm = meta.versions[n];
      if (!vm) continue;
      if (kind === 'delete' && !vm.deletion_time) vm.deletion_time = now();
      if (kind === 'undelete' && !vm.destroyed) vm.deletion_time = '';
      if (kind === 'destroy') { vm.destroyed = true; vm.data = null; }
    }
    node.data.raft_index++;
  }
  return h.sendNoContent(res);
}

function newMeta() {
  return { created_time: '', updated_time: '', current_version: 0, oldest_version: 0, max_versions: 0, cas_required: false, custom_metadata: null, delete_version_after: '0s', versions: {} };
}

// ---------------------------------------------------------------- KV v1
async function kv1(node, mount, sub, op, req, res, h) {
  const store = node.data.kv1[mount];
  if (op === 'list') {
    const prefix = sub === '' || sub.endsWith('/') ? sub : sub + '/';
    const keys = listKeys(Object.keys(store), prefix);
    if (!keys.length) return h.sendErrors(res, 404, []);
    return h.sendJSON(res, 200, h.envelope({ keys }, { mount_type: 'kv' }));
  }
  if (!sub || sub.endsWith('/')) return false;
  if (op === 'read') {
    if (!(sub in store)) return h.sendErrors(res, 404, []);
    return h.sendJSON(res, 200, h.envelope(store[sub], { lease_duration: 2764800, mount_type: 'kv' }));
  }
  if (op === 'write') {
    const b = await h.readJSON(req);
    store[sub] = b;
    node.data.raft_index++;
    return h.sendNoContent(res);
  }
  if (op === 'delete') { delete store[sub]; node.data.raft_index++; return h.sendNoContent(res); }
  return h.sendErrors(res, 405, [h.UNSUPPORTED_OP]);
}

// ---------------------------------------------------------------- Transit
function stdB64FromJwk(x) { return Buffer.from(x, 'base64url').toString('base64'); }

function keyData(k) {
  const keys = {};
  for (const [n, v] of Object.entries(k.keys)) keys[n] = { certificate_chain: '', creation_time: v.creation_time, hybrid_public_key: '', name: 'ed25519', public_key: v.public_key };
  return {
    allow_plaintext_backup: false, auto_rotate_period: 0, deletion_allowed: false, derived: false, exportable: false, imported_key: false,
    keys, latest_version: k.latest_version, min_available_version: 0, min_decryption_version: 1, min_encryption_version: 0, name: k.name,
    supports_decryption: false, supports_derivation: true, supports_encryption: false, supports_signing: true, type: k.type,
  };
}

async function transit(node, mount, sub, op, req, res, h) {
  const store = node.data.transit[mount];
  const env = (d, extra) => h.envelope(d, Object.assign({ mount_type: 'transit' }, extra || {}));
  if (sub === 'keys' || sub === 'keys/') {
    if (op !== 'list') return h.sendErrors(res, 405, [h.UNSUPPORTED_OP]);
    const keys = Object.keys(store).sort();
    if (!keys.length) return h.sendErrors(res, 404, []);
    return h.sendJSON(res, 200, env({ keys }));
  }
  let m = /^keys\/([^/]+)$/.exec(sub);
  if (m) {
    const name = m[1];
    if (op === 'read') {
      // hashicorp/vault builtin/logical/transit/path_keys.go pathPolicyRead: a
      // missing key returns (nil, nil), which the HTTP layer answers 404 {"errors":[]}
      if (!store[name]) return h.sendErrors(res, 404, []);
      return h.sendJSON(res, 200, env(keyData(store[name])));
    }
    if (op === 'write') {
      const b = await h.readJSON(req);
      const type = b.type || 'aes256-gcm96';
      if (store[name]) return h.sendJSON(res, 200, env(keyData(store[name]), { warnings: [`key ${name} already existed`] }));
      if (type !== 'ed25519') return h.sendErrors(res, 400, [`the vault double supports only ed25519 transit keys, not "${type}"`]);
      const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
      store[name] = {
        name, type, latest_version: 1,
        keys: { 1: { creation_time: now(), private_pem: privateKey.export({ format: 'pem', type: 'pkcs8' }), public_key: stdB64FromJwk(publicKey.export({ format: 'jwk' }).x) } },
      };
      node.data.raft_index++;
      return h.sendJSON(res, 200, env(keyData(store[name])));
    }
    if (op === 'delete') return h.sendErrors(res, 400, [`error deleting policy ${name}: deletion is not allowed for this policy`]);
    return h.sendErrors(res, 405, [h.UNSUPPORTED_OP]);
  }
  m = /^(sign|verify)\/([^/]+)(?:\/([^/]+))?$/.exec(sub);
  if (m) {
    if (op !== 'write') return h.sendErrors(res, 405, [h.UNSUPPORTED_OP]);
    const b = await h.readJSON(req);
    const k = store[m[2]];
    if (!k) return h.sendErrors(res, 400, ['encryption key not found']);
    const input = typeof b.input === 'string' ? b.input : '';
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input) || input.length % 4 !== 0) return h.sendErrors(res, 400, ['unable to decode input as base64: illegal base64 data']);
    const data = Buffer.from(input, 'base64');
    if (m[1] === 'sign') {
      const ver = b.key_version ? weakInt(b.key_version) : k.latest_version;
      const kv = k.keys[ver];
      if (!kv) return h.sendErrors(res, 400, ['requested version for signing does not exist']);
      const sig = crypto.sign(null, data, crypto.createPrivateKey(kv.private_pem));
      return h.sendJSON(res, 200, env({ signature: `vault:v${ver}:${sig.toString('base64')}` }));
    }
    const sm = /^vault:v(\d+):(.+)$/.exec(b.signature || '');
    if (!sm) return h.sendErrors(res, 400, ['invalid signature format']);
    const kv = k.keys[sm[1]];
    if (!kv) return h.sendErrors(res, 400, ['signature key version does not exist']);
    const pub = crypto.createPublicKey(crypto.createPrivateKey(kv.private_pem));
    const valid = crypto.verify(null, data, pub, Buffer.from(sm[2], 'base64'));
    return h.sendJSON(res, 200, env({ valid }));
  }
  return false;
}

async function dispatch(node, p, op, req, res, h) {
  for (const mount of Object.keys(node.data.kv)) {
    if ((p + '/').startsWith(mount)) return (await kv2(node, mount, p.slice(mount.length), op, req, res, h)) !== false;
  }
  for (const mount of Object.keys(node.data.kv1)) {
    if ((p + '/').startsWith(mount)) return (await kv1(node, mount, p.slice(mount.length), op, req, res, h)) !== false;
  }
  for (const mount of Object.keys(node.data.transit)) {
    if ((p + '/').startsWith(mount)) return (await transit(node, mount, p.slice(mount.length), op, req, res, h)) !== false;
  }
  return false;
}

module.exports = { dispatch };
