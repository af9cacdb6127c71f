#!/usr/bin/env node
'use strict';
// Kubernetes API server double for drctl's tests: Deployments and
// StatefulSets (with their scale subresource), ReplicaSets, Pods and Events
// of a simulated cluster whose controllers make workloads converge over time.
// README.md next to this file lists what it implements, where each behaviour
// is specified, its options, its admin API and its faults.  Node.js 18 or later,
// standard library only.

const fs = require('fs');
const crypto = require('crypto');
const lib = require('../lib');
const am = require('./apimachinery');
const ob = require('./objects');
const { Auth, TokenFile, parseRule, requestInfo, DEFAULT_USER } = require('./auth');
const { Cluster } = require('./cluster');
const { Store } = require('./store');

const VERSION_INFO = {
  major: '1', minor: '30', gitVersion: 'v1.30.4', gitCommit: 'a51b3b711150f57ffc1f526a640ec058514ed596', gitTreeState: 'clean',
  buildDate: '2024-08-14T19:02:46Z', goVersion: 'go1.22.5', compiler: 'gc', platform: 'linux/amd64',
};
const MAX_BODY = 3 * 1024 * 1024; // the API server's request body limit

// ---------------------------------------------------------------- options

function usage() {
  return `usage: kubernetes-double.js [options]
${lib.SERVER_USAGE}  --token-file FILE         a bearer token the API accepts (re-read when the file changes); repeatable
  --user NAME               the user the preceding --token-file authenticates as (${DEFAULT_USER})
  --anonymous-auth          a request without a token is system:anonymous (403 on resources) instead of a 401
  --forbid "RULE"           deny a request: "VERB RESOURCE[/SUB] [NAME] [user=U] [ns=N] [group=G]"; repeatable
  --seed FILE               workloads to create at start (JSON, see README)
  --namespace NS            namespace of seed entries that name none (ai-agents)
  --converge-ms N           a new pod is Running after N/2 ms and Ready after N ms (1000)
  --observed-lag-ms N       the controllers see a spec change N ms after it (200)
  --terminate-ms N          a deleted pod is listed, terminating, for N ms (1000)
  --tick-ms N               how often the controllers run (20)
  --compact-interval-ms N   compact the store (old continue tokens expire) every N ms; 0 never (300000)
  --event-ttl-ms N          events are kept N ms (3600000)
`;
}

function parseArgs(argv) {
  const { server, rest } = lib.splitServerArgs(argv);
  const o = {
    server, tokenFiles: [], anonymous: false, forbid: [], seed: null, namespace: 'ai-agents',
    convergeMs: 1000, observedLagMs: 200, terminateMs: 1000, tickMs: 20, compactIntervalMs: 300000, eventTtlMs: 3600000,
  };
  const num = (name, v) => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new Error(`${name} needs a whole number of milliseconds`); return n; };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = name !== a ? a.slice(eq + 1) : undefined;
    const val = () => { if (inline !== undefined) return inline; if (i + 1 >= rest.length) throw new Error(`${name} needs a value`); return rest[++i]; };
    switch (name) {
      case '--token-file': o.tokenFiles.push({ file: val(), user: DEFAULT_USER }); break;
      case '--user': if (!o.tokenFiles.length) throw new Error('--user goes after the --token-file it names'); o.tokenFiles[o.tokenFiles.length - 1].user = val(); break;
      case '--anonymous-auth': o.anonymous = true; break;
      case '--forbid': o.forbid.push(parseRule(val())); break;
      case '--seed': o.seed = val(); break;
      case '--namespace': o.namespace = val(); break;
      case '--converge-ms': o.convergeMs = num(name, val()); break;
      case '--observed-lag-ms': o.observedLagMs = num(name, val()); break;
      case '--terminate-ms': o.terminateMs = num(name, val()); break;
      case '--tick-ms': o.tickMs = Math.max(1, num(name, val())); break;
      case '--compact-interval-ms': o.compactIntervalMs = num(name, val()); break;
      case '--event-ttl-ms': o.eventTtlMs = num(name, val()); break;
      case '-h': case '--help': process.stdout.write(usage()); process.exit(0); break;
      default: throw new Error(`unknown option ${a}\n${usage()}`);
    }
  }
  return o;
}

// ---------------------------------------------------------------- the API's resources

const meta = { 'metadata.name': (o) => o.metadata.name, 'metadata.namespace': (o) => o.metadata.namespace };
const coreEventFields = Object.assign({}, meta, {
  'involvedObject.kind': (e) => e.involvedObject.kind, 'involvedObject.namespace': (e) => e.involvedObject.namespace,
  'involvedObject.name': (e) => e.involvedObject.name, 'involvedObject.uid': (e) => e.involvedObject.uid,
  'involvedObject.apiVersion': (e) => e.involvedObject.apiVersion, 'involvedObject.resourceVersion': (e) => e.involvedObject.resourceVersion,
  'involvedObject.fieldPath': (e) => e.involvedObject.fieldPath, reason: (e) => e.reason, reportingComponent: (e) => e.reportingComponent,
  source: (e) => e.source.component, type: (e) => e.type,
});
const v1EventFields = Object.assign({}, meta, {
  'regarding.kind': (e) => e.involvedObject.kind, 'regarding.namespace': (e) => e.involvedObject.namespace,
  'regarding.name': (e) => e.involvedObject.name, 'regarding.uid': (e) => e.involvedObject.uid,
  'regarding.apiVersion': (e) => e.involvedObject.apiVersion, 'regarding.resourceVersion': (e) => e.involvedObject.resourceVersion,
  'regarding.fieldPath': (e) => e.involvedObject.fieldPath, reason: (e) => e.reason, reportingController: (e) => e.reportingComponent,
  type: (e) => e.type, 'deprecatedSource.component': (e) => e.source.component,
});

// events.k8s.io/v1 Event from the stored core/v1 Event (the API server's conversion).
function eventV1(e) {
  return ob.ordered([['kind', 'Event'], ['apiVersion', 'events.k8s.io/v1'], ['metadata', e.metadata], ['eventTime', e.eventTime],
    ['reportingController', e.reportingComponent || undefined], ['reportingInstance', e.reportingInstance || undefined],
    ['reason', e.reason], ['regarding', e.involvedObject], ['note', e.message], ['type', e.type],
    ['deprecatedSource', e.source], ['deprecatedFirstTimestamp', e.firstTimestamp], ['deprecatedLastTimestamp', e.lastTimestamp], ['deprecatedCount', e.count]]);
}

const API = {
  'apps/v1': {
    deployments: { kind: 'Deployment', verbs: ['list', 'get', 'update', 'patch', 'delete'], sub: { scale: ['get', 'update', 'patch'], status: ['get'] }, fields: meta },
    statefulsets: { kind: 'StatefulSet', verbs: ['list', 'get', 'update', 'patch', 'delete'], sub: { scale: ['get', 'update', 'patch'], status: ['get'] }, fields: meta },
    replicasets: { kind: 'ReplicaSet', verbs: ['list', 'get'], sub: { scale: ['get'], status: ['get'] }, fields: Object.assign({ 'status.replicas': (o) => o.status.replicas }, meta) },
  },
  '/v1': {
    pods: {
      kind: 'Pod', verbs: ['list', 'get', 'delete'], sub: { status: ['get'] },
      fields: Object.assign({}, meta, {
        'spec.nodeName': (p) => p.spec.nodeName, 'spec.restartPolicy': (p) => p.spec.restartPolicy, 'spec.schedulerName': (p) => p.spec.schedulerName,
        'spec.serviceAccountName': (p) => p.spec.serviceAccountName, 'spec.hostNetwork': (p) => String(!!p.spec.hostNetwork),
        'status.phase': (p) => p.status.phase, 'status.podIP': (p) => p.status.podIP, 'status.nominatedNodeName': (p) => p.status.nominatedNodeName,
      }),
    },
    events: { kind: 'Event', verbs: ['list', 'get'], sub: {}, fields: coreEventFields },
  },
  'events.k8s.io/v1': {
    events: { kind: 'Event', storage: 'events', render: eventV1, verbs: ['list', 'get'], sub: {}, fields: v1EventFields },
  },
};

// ---------------------------------------------------------------- the double

class KubernetesDouble {
  constructor(opts) {
    this.opts = opts;
    this.auth = new Auth(opts);
    this.cluster = new Cluster({ convergeMs: opts.convergeMs, observedLagMs: opts.observedLagMs, terminateMs: opts.terminateMs, eventTtlMs: opts.eventTtlMs });
    this.tooMany = { remaining: 0, retryAfter: 1 };
    this.previousCompactRev = this.cluster.store.rev;
    if (opts.seed) this.seedFile(opts.seed);
  }

  seedFile(file) {
    let seed;
    try { seed = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) { throw new Error(`--seed ${file}: ${e.message}`); }
    return this.cluster.seed(seed, this.opts.namespace);
  }

  start() {
    this.ticker = setInterval(() => this.cluster.tick(), this.opts.tickMs);
    if (this.opts.compactIntervalMs) {
      // as the API server compacts: to the revision of one interval ago
      this.compactor = setInterval(() => {
        this.cluster.store.compact(this.previousCompactRev);
        this.previousCompactRev = this.cluster.store.rev;
      }, this.opts.compactIntervalMs);
    }
  }

  send(res, req, status, obj, headers) {
    const pretty = ['1', 'true'].includes((req.query.get('pretty') || '').toLowerCase());
    const body = req.method === 'HEAD' ? null : (pretty ? JSON.stringify(obj, null, 2) : JSON.stringify(obj)) + '\n';
    res.send(status, Object.assign(responseHeaders(), headers || {}), body);
  }

  async handle(req, res) {
    const info = requestInfo(req);
    const user = this.auth.identify(req); // 401 for a bad token
    if (info.isResource && this.tooMany.remaining > 0) { // priority and fairness rejects before authorization
      this.tooMany.remaining--;
      throw am.errors.tooManyRequests(this.tooMany.retryAfter);
    }
    this.auth.authorize(user, info); // 403
    checkAccept(req);
    if (!info.isResource) return this.nonResource(req, res, info);
    const gv = info.group ? `${info.group}/${info.version}` : `/${info.version}`;
    const api = API[gv];
    const r = api && api[info.resource];
    if (!r || (info.extra && info.extra.length) || (info.name && !info.namespace && info.resource !== 'namespaces')) throw am.errors.noRoute();
    if (info.subresource && !r.sub[info.subresource]) throw am.errors.noRoute();
    const allowed = info.subresource ? r.sub[info.subresource] : r.verbs;
    if (info.verb === 'watch') throw am.errors.badRequest('the Kubernetes double does not implement watch; list and poll instead');
    if (!allowed.includes(info.verb)) throw am.errors.methodNotAllowed();
    const storage = r.storage || info.resource;
    const group = info.group;
    switch (info.verb) {
      case 'list': return this.send(res, req, 200, this.list(req, info, r, storage, gv));
      case 'get': return this.get(req, res, info, r, storage, group);
      case 'update': return this.update(req, res, info, r, group);
      case 'patch': return this.patch(req, res, info, r, group);
      case 'delete': return this.remove(req, res, info, r, group);
      default: throw am.errors.methodNotAllowed();
    }
  }

  nonResource(req, res, info) {
    const p = info.path.replace(/\/+$/, '') || '/';
    if (['/healthz', '/livez', '/readyz'].includes(p)) return res.send(200, Object.assign(responseHeaders(), { 'Content-Type': 'text/plain; charset=utf-8' }), req.method === 'HEAD' ? null : 'ok');
    if (p === '/version') return this.send(res, req, 200, VERSION_INFO);
    if (p === '/api') return this.send(res, req, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }] });
    if (p === '/apis') {
      const g = (name, version) => ({ name, versions: [{ groupVersion: `${name}/${version}`, version }], preferredVersion: { groupVersion: `${name}/${version}`, version } });
      return this.send(res, req, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [g('apps', 'v1'), g('events.k8s.io', 'v1'), g('autoscaling', 'v1')] });
    }
    const gv = p === '/api/v1' ? '/v1' : p.replace(/^\/apis\//, '');
    if (API[gv]) {
      const resources = [];
      for (const [name, r] of Object.entries(API[gv])) {
        resources.push({ name, singularName: r.kind.toLowerCase(), namespaced: true, kind: r.kind, verbs: r.verbs });
        for (const [sub, verbs] of Object.entries(r.sub)) resources.push({ name: `${name}/${sub}`, singularName: '', namespaced: true, kind: sub === 'scale' ? 'Scale' : r.kind, verbs, group: sub === 'scale' ? 'autoscaling' : undefined, version: sub === 'scale' ? 'v1' : undefined });
      }
      return this.send(res, req, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv.replace(/^\//, ''), resources });
    }
    throw am.errors.noRoute();
  }

  // ---------------------------------------------------------------- list

  // A list as the API server's etcd storage serves it: sorted by key,
  // limit/continue paging at one revision, remainingItemCount only without
  // selectors, 410 Expired once the continue token's revision is compacted.
  list(req, info, r, storage, gv) {
    const q = req.query;
    const store = this.cluster.store;
    const labels = am.parseLabelSelector(q.get('labelSelector') || '');
    const fields = am.parseFieldSelector(q.get('fieldSelector') || '', r.fields);
    let limit = 0;
    if (q.has('limit') && q.get('limit') !== '') {
      if (!/^-?\d+$/.test(q.get('limit'))) throw am.errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(q.get('limit'))}: invalid syntax`);
      limit = Math.max(0, Number(q.get('limit')));
    }
    const rv = q.get('resourceVersion') || '';
    const rvm = q.get('resourceVersionMatch') || '';
    const cont = q.get('continue') || '';
    const prefix = Store.prefix(storage, info.namespace);
    let atRev = store.rev;
    let start = '';
    if (rvm && !['NotOlderThan', 'Exact'].includes(rvm)) {
      throw am.errors.invalid('meta.k8s.io', 'ListOptions', '', [{ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', body: `Unsupported value: "${rvm}": supported values: "Exact", "NotOlderThan", ""` }]);
    }
    if (cont) {
      if (rvm) throw am.errors.invalid('meta.k8s.io', 'ListOptions', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', body: 'Forbidden: resourceVersionMatch is forbidden when continue is provided' }]);
      const tok = am.decodeContinue(cont);
      if (rv && rv !== '0') throw am.errors.badRequest('specifying resource version is not allowed when using continue');
      start = tok.start;
      if (tok.rv > 0) {
        if (tok.rv < store.compacted) throw am.errors.expired(am.CONTINUE_EXPIRED, am.encodeContinue(start, -1));
        atRev = tok.rv;
      }
    } else if (rv) {
      if (!/^\d+$/.test(rv)) throw am.errors.badRequest(`invalid resource version "${rv}"`);
      if (rvm && rv === '0' && rvm === 'Exact') throw am.errors.invalid('meta.k8s.io', 'ListOptions', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', body: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"' }]);
      if (Number(rv) > store.rev) {
        throw am.errors.timeout(`Too large resource version: ${rv}, current: ${store.rev}`, [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }]);
      }
      if (rvm === 'Exact') {
        if (Number(rv) < store.compacted) throw am.errors.expired(am.LIST_EXPIRED);
        atRev = Number(rv);
      }
      if (rv === '0' && !rvm) limit = 0; // served from the watch cache, which does not page
    } else if (rvm) {
      throw am.errors.invalid('meta.k8s.io', 'ListOptions', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', body: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided' }]);
    }
    const entries = store.list(prefix, atRev).filter((e) => !start || e.key.slice(prefix.length) >= start);
    const items = [];
    const listMeta = { resourceVersion: String(atRev) };
    for (let i = 0; i < entries.length; i++) {
      const o = entries[i].obj;
      if (!am.labelsMatch(labels, o.metadata.labels) || !am.fieldsMatch(fields, o)) continue;
      items.push(o);
      if (limit && items.length === limit) {
        if (i < entries.length - 1) {
          listMeta.continue = am.encodeContinue(entries[i].key.slice(prefix.length) + '\u0000', atRev);
          if (!labels.length && !fields.length) listMeta.remainingItemCount = entries.length - 1 - i;
        }
        break;
      }
    }
    const render = r.render || ((o) => o);
    return {
      kind: `${r.kind}List`, apiVersion: gv.replace(/^\//, ''), metadata: listMeta,
      items: items.map((o) => { const { kind, apiVersion, ...rest } = render(o); return rest; }), // list items carry no TypeMeta
    };
  }

  // ---------------------------------------------------------------- get, update, patch, delete

  current(info, storage, group) {
    const o = this.cluster.store.get(storage, info.namespace, info.name);
    if (!o) throw am.errors.notFound(group, info.resource, info.name);
    return o;
  }

  get(req, res, info, r, storage, group) {
    const o = this.current(info, storage, group);
    if (info.subresource === 'scale') return this.send(res, req, 200, ob.scaleOf(o));
    return this.send(res, req, 200, (r.render || ((x) => x))(o));
  }

  async update(req, res, info, r, group) {
    const ct = am.mediaType(req.headers['content-type']);
    if (ct && !am.BODY_TYPES.includes(ct)) throw am.errors.unsupportedMediaType(am.BODY_TYPES);
    if (ct === 'application/vnd.kubernetes.protobuf') throw am.errors.unsupportedMediaType(['application/json', 'application/yaml']);
    const dryRun = checkDryRun(req, 'UpdateOptions');
    const text = (await lib.readBody(req, MAX_BODY)).toString('utf8');
    const want = info.subresource === 'scale' ? { kind: 'Scale', apiVersion: 'autoscaling/v1' } : { kind: r.kind, apiVersion: 'apps/v1' };
    let body;
    try { body = JSON.parse(text); } catch (e) {
      throw am.errors.badRequest(`${want.kind} in version "v1" cannot be handled as a ${want.kind}: ${e.message}`);
    }
    if (!am.isObj(body)) throw am.errors.badRequest(`${want.kind} in version "v1" cannot be handled as a ${want.kind}: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type struct`);
    if (body.kind && body.kind !== want.kind) throw am.errors.badRequest(`${want.kind} in version "v1" cannot be handled as a ${body.kind}: the object provided is unrecognized (must be of type ${want.kind})`);
    const bm = body.metadata || {};
    if (bm.name !== info.name) throw am.errors.badRequest(`the name of the object (${bm.name || ''}) does not match the name on the URL (${info.name})`);
    if (bm.namespace && bm.namespace !== info.namespace) throw am.errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const cur = this.current(info, info.resource, group);
    const headers = {};
    let next;
    if (info.subresource === 'scale') {
      scaleFieldCheck(req, body, headers);
      next = this.fromScale(cur, body);
    } else next = body;
    const out = this.cluster.updateWorkload(info.resource, cur, next, dryRun);
    this.send(res, req, 200, info.subresource === 'scale' ? ob.scaleOf(out) : out, headers);
  }

  async patch(req, res, info, r, group) {
    const ct = am.mediaType(req.headers['content-type']);
    if (!am.PATCH_TYPES.includes(ct)) throw am.errors.unsupportedMediaType(am.PATCH_TYPES);
    const dryRun = checkDryRun(req, 'PatchOptions');
    const text = (await lib.readBody(req, MAX_BODY)).toString('utf8');
    const cur = this.current(info, info.resource, group);
    const headers = {};
    let out;
    if (info.subresource === 'scale') {
      const patched = am.applyPatch(ob.scaleOf(cur), ct, text, req.query);
      if (!am.isObj(patched)) throw am.errors.badRequest('the patched Scale is not a JSON object');
      scaleFieldCheck(req, patched, headers);
      out = ob.scaleOf(this.cluster.updateWorkload(info.resource, cur, this.fromScale(cur, patched), dryRun));
    } else {
      const patched = am.applyPatch(cur, ct, text, req.query);
      if (!am.isObj(patched)) throw am.errors.badRequest(`the patched ${r.kind} is not a JSON object`);
      const pm = patched.metadata || {};
      if (pm.name !== cur.metadata.name) throw am.errors.badRequest(`the name of the object (${pm.name || ''}) does not match the name on the URL (${info.name})`);
      out = this.cluster.updateWorkload(info.resource, cur, patched, dryRun);
    }
    this.send(res, req, 200, out, headers);
  }

  // A Scale (patched or PUT) -> the workload it updates (ScaleREST's
  // scaleUpdatedObjectInfo: replicas and the resourceVersion precondition).
  fromScale(cur, scale) {
    const spec = am.isObj(scale.spec) ? scale.spec : {};
    const replicas = spec.replicas === undefined || spec.replicas === null ? 0 : spec.replicas;
    if (!Number.isInteger(replicas)) {
      throw am.errors.badRequest(`Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`);
    }
    if (replicas < 0) {
      throw am.errors.invalid('autoscaling', 'Scale', cur.metadata.name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', body: `Invalid value: ${replicas}: must be greater than or equal to 0` }]);
    }
    const sm = am.isObj(scale.metadata) ? scale.metadata : {};
    if (sm.uid && sm.uid !== cur.metadata.uid) {
      throw am.errors.conflict('apps', `${cur.kind.toLowerCase()}s/scale`, cur.metadata.name, `Precondition failed: UID in precondition: ${sm.uid}, UID in object meta: ${cur.metadata.uid}`);
    }
    const next = am.clone(cur);
    next.spec.replicas = replicas;
    next.metadata.resourceVersion = sm.resourceVersion || undefined;
    next.metadata.uid = undefined;
    return next;
  }

  remove(req, res, info, r, group) {
    const dryRun = checkDryRun(req, 'DeleteOptions');
    const cur = this.current(info, info.resource, group);
    const now = Date.now();
    if (info.resource === 'pods') {
      const g = req.query.get('gracePeriodSeconds');
      if (g !== null && !/^\d+$/.test(g)) throw am.errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(g)}: invalid syntax`);
      const out = dryRun ? cur : this.cluster.deletePod(cur, now, g === null ? undefined : Number(g));
      return this.send(res, req, 200, out);
    }
    if (!dryRun) this.cluster.removeWorkload(info.resource, info.namespace, info.name, now);
    return this.send(res, req, 200, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
      details: { name: info.name, group, kind: info.resource, uid: cur.metadata.uid },
    });
  }

  // ---------------------------------------------------------------- admin

  adminRoutes() {
    const json = (res, status, obj) => lib.sendJSON(res, status, obj);
    const bad = (msg) => new lib.HttpError(400, msg, { admin: true });
    const findMeta = (req, p) => {
      const resource = { deployment: 'deployments', deployments: 'deployments', statefulset: 'statefulsets', statefulsets: 'statefulsets' }[p.resource.toLowerCase()];
      if (!resource) throw bad(`no workload resource ${p.resource} (deployments, statefulsets)`);
      const ns = req.query.get('namespace') || this.opts.namespace;
      const m = this.cluster.workloads.get(Cluster.wkey(resource, ns, p.name));
      if (!m) throw new lib.HttpError(404, `no ${resource} ${ns}/${p.name}`, { admin: true });
      return m;
    };
    return {
      'GET /state': (req, res) => json(res, 200, this.stateView()),
      'POST,PUT /state': async (req, res) => { this.applySettings(await lib.readJSON(req)); json(res, 200, this.stateView()); },
      'POST /seed': async (req, res) => {
        const body = await lib.readJSON(req, 16 * 1024 * 1024);
        let made;
        try { made = this.cluster.seed(body, this.opts.namespace); } catch (e) { throw bad(e.message); }
        json(res, 200, { created: made });
      },
      'GET /workloads': (req, res) => json(res, 200, { workloads: [...this.cluster.workloads.values()].map((m) => this.cluster.workloadView(m, Date.now())) }),
      'DELETE /workloads': (req, res) => { this.clearWorkloads(); lib.sendEmpty(res, 204); },
      'GET /workloads/:resource/:name': (req, res, p) => json(res, 200, this.cluster.workloadView(findMeta(req, p), Date.now())),
      'POST,PUT /workloads/:resource/:name': async (req, res, p) => {
        const m = findMeta(req, p);
        const body = await lib.readJSON(req);
        for (const k of Object.keys(body)) if (k !== 'stuck') throw bad(`unknown workload setting "${k}"; known: stuck`);
        if (body.stuck !== undefined) this.cluster.setStuck(m, !!body.stuck, Date.now());
        json(res, 200, this.cluster.workloadView(m, Date.now()));
      },
      'DELETE /workloads/:resource/:name': (req, res, p) => {
        const m = findMeta(req, p);
        this.cluster.removeWorkload(m.resource, m.ns, m.name, Date.now());
        lib.sendEmpty(res, 204);
      },
    };
  }

  stateView() {
    const c = this.cluster;
    const now = Date.now();
    return {
      settings: {
        converge_ms: c.settings.convergeMs, observed_lag_ms: c.settings.observedLagMs, terminate_ms: c.settings.terminateMs,
        event_ttl_ms: c.settings.eventTtlMs, anonymous_auth: this.auth.anonymous, namespace: this.opts.namespace,
      },
      users: this.auth.tokenFiles.map((t) => ({ token_file: t.file, user: t.user, token_present: !!t.current() })),
      forbid: this.auth.rules,
      too_many_requests: { remaining: this.tooMany.remaining, retry_after: this.tooMany.retryAfter },
      resource_version: String(c.store.rev), compacted_revision: String(c.store.compacted),
      workloads: [...c.workloads.values()].map((m) => c.workloadView(m, now)),
    };
  }

  applySettings(s) {
    const known = ['converge_ms', 'observed_lag_ms', 'terminate_ms', 'event_ttl_ms', 'forbid', 'forbid_add', 'anonymous_auth', 'too_many_requests', 'compact', 'token_files'];
    if (!am.isObj(s)) throw new lib.HttpError(400, 'state settings are a JSON object', { admin: true });
    for (const k of Object.keys(s)) if (!known.includes(k)) throw new lib.HttpError(400, `unknown setting "${k}"; known: ${known.join(', ')}`, { admin: true });
    const ms = (k) => { if (!Number.isInteger(s[k]) || s[k] < 0) throw new lib.HttpError(400, `${k} must be a whole number of milliseconds`, { admin: true }); return s[k]; };
    const rules = (list) => { try { return (Array.isArray(list) ? list : [list]).map(parseRule); } catch (e) { throw new lib.HttpError(400, e.message, { admin: true }); } };
    const c = this.cluster.settings;
    if (s.converge_ms !== undefined) c.convergeMs = ms('converge_ms');
    if (s.observed_lag_ms !== undefined) c.observedLagMs = ms('observed_lag_ms');
    if (s.terminate_ms !== undefined) c.terminateMs = ms('terminate_ms');
    if (s.event_ttl_ms !== undefined) c.eventTtlMs = ms('event_ttl_ms');
    if (s.forbid !== undefined) this.auth.rules = rules(s.forbid);
    if (s.forbid_add !== undefined) this.auth.rules = this.auth.rules.concat(rules(s.forbid_add));
    if (s.anonymous_auth !== undefined) this.auth.anonymous = !!s.anonymous_auth;
    if (s.token_files !== undefined) {
      if (!Array.isArray(s.token_files) || !s.token_files.every((t) => am.isObj(t) && typeof t.file === 'string')) {
        throw new lib.HttpError(400, 'token_files is [{"file": PATH, "user": NAME}]', { admin: true });
      }
      this.auth.tokenFiles = s.token_files.map((t) => new TokenFile(t.file, t.user));
    }
    if (s.too_many_requests !== undefined) {
      const t = s.too_many_requests;
      const o = Number.isInteger(t) ? { count: t } : t;
      if (!am.isObj(o) || !Number.isInteger(o.count) || o.count < 0) throw new lib.HttpError(400, 'too_many_requests is N or {"count": N, "retry_after": S}', { admin: true });
      this.tooMany = { remaining: o.count, retryAfter: Number.isInteger(o.retry_after) && o.retry_after > 0 ? o.retry_after : 1 };
    }
    if (s.compact) { this.cluster.store.compact(this.cluster.store.rev); this.previousCompactRev = this.cluster.store.rev; }
    this.cluster.wake();
  }

  clearWorkloads() {
    const now = Date.now();
    for (const m of [...this.cluster.workloads.values()]) this.cluster.removeWorkload(m.resource, m.ns, m.name, now, true);
  }

  // POST /__double/reset: start-up settings, no workloads, no events, the seed again.
  reset() {
    const o = this.opts;
    this.clearWorkloads();
    for (const ev of this.cluster.store.current(Store.prefix('events'))) this.cluster.store.remove('events', ev.metadata.namespace, ev.metadata.name);
    this.cluster.eventIndex.clear();
    Object.assign(this.cluster.settings, { convergeMs: o.convergeMs, observedLagMs: o.observedLagMs, terminateMs: o.terminateMs, eventTtlMs: o.eventTtlMs });
    this.auth = new Auth(o);
    this.tooMany = { remaining: 0, retryAfter: 1 };
    if (o.seed) this.seedFile(o.seed);
  }

  // The request log's own fields: what the API server would call the
  // request (never the token).
  logFields(req) {
    const info = requestInfo(req);
    const k8s = { verb: info.verb, user: this.auth.userFor(req) };
    if (info.isResource) Object.assign(k8s, { group: info.group, version: info.version, namespace: info.namespace, resource: info.resource, subresource: info.subresource, name: info.name });
    if (req.method === 'PATCH') k8s.patch_type = am.mediaType(req.headers['content-type']) || null;
    if (req.query.has('dryRun')) k8s.dry_run = req.query.getAll('dryRun').join(',');
    if (req.query.has('labelSelector')) k8s.label_selector = req.query.get('labelSelector');
    return { k8s };
  }
}

// The headers the API server puts on every answer.
function responseHeaders() {
  return {
    'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Audit-Id': crypto.randomUUID(),
    'X-Kubernetes-Pf-Flowschema-Uid': '5e1b4e1c-1f2d-4b53-9e0e-3c8f4e5a6b7c', 'X-Kubernetes-Pf-Prioritylevel-Uid': '9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d',
  };
}

// Only JSON is served: an Accept that excludes it is 406 (a Table request
// "as=Table" too; kubectl always offers plain JSON after it).
function checkAccept(req) {
  const accept = req.headers.accept;
  if (!accept) return;
  const ok = accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (params.some((p) => p.startsWith('as='))) return false;
    return type === 'application/json' || type === 'application/*' || type === '*/*' || type === '';
  });
  if (!ok) throw am.errors.notAcceptable(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
}

// dryRun=All (the only value): validated, not stored.
function checkDryRun(req, kind) {
  const vals = req.query.getAll('dryRun');
  if (!vals.length) return false;
  for (const v of vals) {
    if (v !== 'All') {
      throw am.errors.invalid('meta.k8s.io', kind, '', [{ type: 'FieldValueNotSupported', field: 'dryRun', body: `Unsupported value: []string{${vals.map((x) => JSON.stringify(x)).join(', ')}}: supported values: "All"` }]);
    }
  }
  return true;
}

// Unknown fields in a Scale: fieldValidation Warn (the default) drops them
// with a Warning header, Strict refuses them, Ignore says nothing.
function scaleFieldCheck(req, scale, headers) {
  const unknown = [];
  const known = { kind: 1, apiVersion: 1, metadata: 1, spec: { replicas: 1 }, status: { replicas: 1, selector: 1 } };
  for (const [k, v] of Object.entries(scale)) {
    if (!(k in known)) unknown.push(k);
    else if (known[k] !== 1 && am.isObj(v)) for (const k2 of Object.keys(v)) if (!(k2 in known[k])) unknown.push(`${k}.${k2}`);
  }
  if (!unknown.length) return;
  const mode = req.query.get('fieldValidation') || 'Warn';
  if (mode === 'Strict') throw am.errors.badRequest(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
  if (mode === 'Warn') headers.Warning = unknown.map((u) => `299 - "unknown field \\"${u}\\""`).join(', ');
}

// ---------------------------------------------------------------- main

function main() {
  let opts;
  let dbl;
  try {
    opts = parseArgs(process.argv.slice(2));
    dbl = new KubernetesDouble(opts);
  } catch (e) { process.stderr.write(`kubernetes-double: ${e.message}\n`); process.exit(2); }
  const server = lib.createDouble({
    name: 'kubernetes',
    server: opts.server,
    handler: (req, res) => dbl.handle(req, res),
    errorBody: (status, message, details) => {
      if (details && details.status) return { headers: Object.assign(responseHeaders(), details.headers || {}), body: JSON.stringify(details.status) + '\n' };
      if (details && details.admin) return { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ error: message }) + '\n' };
      return { headers: responseHeaders(), body: JSON.stringify(am.statusForCode(status, message)) + '\n' };
    },
    logHeaders: ['content-type', 'accept', 'user-agent'],
    logFields: (req) => dbl.logFields(req),
    admin: dbl.adminRoutes(),
    onReset: () => dbl.reset(),
  });
  dbl.start();
  server.run();
}

if (require.main === module) main();
module.exports = { parseArgs, KubernetesDouble };
