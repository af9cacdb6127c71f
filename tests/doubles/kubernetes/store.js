'use strict';
// The double's etcd: keys "/registry/<resource>/<namespace>/<name>", one
// global revision that every write (API or controller) advances and that
// becomes the object's metadata.resourceVersion, a history of versions so a
// paged list reads one consistent revision (as etcd serves continue
// tokens), and compaction, after which older revisions are gone (410).

class Store {
  constructor(startRevision) {
    this.rev = startRevision || 1;
    this.keys = new Map(); // key -> [{rev, json}]  (json null: deleted)
    this.cache = new Map(); // key -> the latest version, parsed (shared: never mutate it)
    this.compacted = 0;
    this.writes = 0; // writes since the counter was last read (the controllers' settle test)
  }

  static key(resource, ns, name) { return `/registry/${resource}/${ns}/${name}`; }
  static prefix(resource, ns) { return ns ? `/registry/${resource}/${ns}/` : `/registry/${resource}/`; }

  _latest(key) {
    const v = this.keys.get(key);
    if (!v || !v.length) return null;
    const last = v[v.length - 1];
    return last.json === null ? null : last;
  }

  get(resource, ns, name) {
    const l = this._latest(Store.key(resource, ns, name));
    return l ? JSON.parse(l.json) : null;
  }

  // Store obj as a new revision; sets obj.metadata.resourceVersion.
  write(resource, ns, name, obj) {
    const key = Store.key(resource, ns, name);
    const rev = ++this.rev;
    obj.metadata.resourceVersion = String(rev);
    if (!this.keys.has(key)) this.keys.set(key, []);
    const json = JSON.stringify(obj);
    this.keys.get(key).push({ rev, json });
    this.cache.set(key, JSON.parse(json));
    this.writes++;
    return obj;
  }

  // Write only when obj differs from the stored object (a write that changes
  // nothing keeps its resourceVersion, as the API server's
  // GuaranteedUpdate does); true when written.
  writeIfChanged(resource, ns, name, obj) {
    const l = this._latest(Store.key(resource, ns, name));
    if (l) {
      obj.metadata.resourceVersion = String(l.rev);
      if (JSON.stringify(obj) === l.json) return false;
    }
    this.write(resource, ns, name, obj);
    return true;
  }

  remove(resource, ns, name) {
    const key = Store.key(resource, ns, name);
    if (!this._latest(key)) return false;
    this.keys.get(key).push({ rev: ++this.rev, json: null });
    this.cache.delete(key);
    this.writes++;
    return true;
  }

  // [{key, obj}] under prefix as of revision atRev, sorted by key (the
  // objects are shared: read them, never change them).
  list(prefix, atRev) {
    const out = [];
    const at = atRev === undefined ? this.rev : atRev;
    for (const [key, versions] of this.keys) {
      if (!key.startsWith(prefix)) continue;
      let found = null;
      for (let i = versions.length - 1; i >= 0; i--) if (versions[i].rev <= at) { found = versions[i]; break; }
      if (found && found.json !== null) out.push({ key, obj: found === versions[versions.length - 1] ? this.cache.get(key) : JSON.parse(found.json) });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  // Current objects under prefix, shared with the store: read them, never
  // change them (get() gives a copy to change).
  current(prefix) {
    const out = [];
    for (const [key, obj] of this.cache) if (key.startsWith(prefix)) out.push(obj);
    return out;
  }

  // Forget revisions older than rev (etcd compaction): reads at an older
  // revision fail from now on.
  compact(rev) {
    const to = Math.min(rev, this.rev);
    if (to <= this.compacted) return this.compacted;
    this.compacted = to;
    for (const [key, versions] of this.keys) {
      let keepFrom = 0;
      for (let i = versions.length - 1; i >= 0; i--) if (versions[i].rev <= to) { keepFrom = i; break; }
      const kept = versions.slice(keepFrom);
      if (kept.length === 1 && kept[0].json === null) this.keys.delete(key);
      else this.keys.set(key, kept);
    }
    return this.compacted;
  }
}

module.exports = { Store };
