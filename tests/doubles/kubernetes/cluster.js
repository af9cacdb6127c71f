'use strict';
// The simulated cluster behind the API: the store, and the controllers that
// make a Deployment or StatefulSet converge over time, written from
// kubernetes/kubernetes pkg/controller/deployment (sync.go, rolling.go,
// recreate.go, progress.go, util/deployment_util.go), pkg/controller/
// replicaset and pkg/controller/statefulset (stateful_set_control.go), plus a
// kubelet that starts pods (Pending, Running, Ready after converge_ms) and
// stops them (deletionTimestamp, gone after terminate_ms).  Time moves by
// ticks; each tick runs the controllers once, as an informer resync would.

const crypto = require('crypto');
const am = require('./apimachinery');
const ob = require('./objects');
const { Store } = require('./store');
const { syncDeployment, syncReplicaSet, syncStatefulSet } = require('./controllers');

const NODES = [{ name: 'node-1', ip: '10.0.0.11' }, { name: 'node-2', ip: '10.0.0.12' }, { name: 'node-3', ip: '10.0.0.13' }];
const RESOURCES = { deployments: 'Deployment', statefulsets: 'StatefulSet' };

class Cluster {
  constructor(settings) {
    this.settings = Object.assign({ convergeMs: 1000, observedLagMs: 200, terminateMs: 1000, eventTtlMs: 3600000 }, settings || {});
    this.store = new Store(4000 + Math.floor(Math.random() * 1000));
    this.workloads = new Map(); // "resource/ns/name" -> {resource, kind, ns, name, uid, specChangedAt, stuck}
    this.pods = new Map(); // pod uid -> kubelet state
    this.revisions = new Map(); // statefulset uid -> Map(revision name -> {template, revision})
    this.eventIndex = new Map(); // dedup key -> "ns/name"
    this.eventSeq = 0;
    this.podSeq = 0;
    this.now = Date.now();
    this.idleRev = -1;
    this.wakeAt = 0;
  }

  static wkey(resource, ns, name) { return `${resource}/${ns}/${name}`; }

  // ---------------------------------------------------------------- seeding

  // Create the workloads of a seed (see README "Seed"); converged ones look as
  // if they had been running for an hour: pods Ready, status complete (a
  // paused one was paused after its rollout, as "kubectl rollout pause"
  // would: generation 2).
  seed(seed, defaultNs) {
    const list = Array.isArray(seed) ? seed : (seed.workloads || []);
    const nsDefault = (!Array.isArray(seed) && seed.namespace) || defaultNs;
    const made = [];
    const now = Date.now();
    const hourAgo = now - 3600 * 1000;
    for (const w of list) {
      if (!w || typeof w.name !== 'string' || !w.name) throw new Error('seed: each workload needs a "name"');
      if (w.kind !== undefined && w.kind !== 'Deployment' && w.kind !== 'StatefulSet') throw new Error(`seed: kind of ${w.name} must be Deployment or StatefulSet`);
      if (w.replicas !== undefined && (!Number.isInteger(w.replicas) || w.replicas < 0)) throw new Error(`seed: replicas of ${w.name} must be a whole number`);
    }
    for (const w of list) {
      const ns = w.namespace || nsDefault;
      const resource = (w.kind || 'Deployment') === 'StatefulSet' ? 'statefulsets' : 'deployments';
      this.removeWorkload(resource, ns, w.name, now, true);
      const converged = w.converged !== false;
      const start = converged ? hourAgo : now;
      const obj = ob.workloadFromSeed(Object.assign({}, w, { paused: converged ? false : !!w.paused }), ns, start);
      this.store.write(resource, ns, w.name, obj);
      const meta = { resource, kind: obj.kind, ns, name: w.name, uid: obj.metadata.uid, specChangedAt: start - this.settings.observedLagMs, stuck: false };
      this.workloads.set(Cluster.wkey(resource, ns, w.name), meta);
      made.push({ meta, w, converged });
    }
    const convergedMetas = made.filter((m) => m.converged).map((m) => m.meta);
    const before = new Set(this.pods.keys());
    if (convergedMetas.length) {
      let t = this.settle(convergedMetas, now, hourAgo);
      const toPause = made.filter((m) => m.converged && m.w.paused && m.meta.resource === 'deployments').map((m) => m.meta);
      for (const meta of toPause) {
        const d = this.store.get('deployments', meta.ns, meta.name);
        d.spec = ob.defaultDeploymentSpec(Object.assign({}, d.spec, { paused: true }));
        d.metadata.generation += 1;
        this.store.write('deployments', meta.ns, meta.name, d);
        meta.specChangedAt = t;
      }
      if (toPause.length) t = this.settle(toPause, now, t + this.settings.observedLagMs + 1);
      this.forgetSeedEvents(convergedMetas, before, now);
    }
    for (const { meta, w } of made) if (w.stuck) meta.stuck = true;
    return made.map(({ meta }) => ({ kind: meta.kind, namespace: meta.ns, name: meta.name }));
  }

  // Run time forward from `from` until the workloads stop changing; returns
  // the simulated time reached.
  settle(metas, now, from) {
    const step = Math.max(this.settings.convergeMs, this.settings.terminateMs, this.settings.observedLagMs, 1000) / 4;
    let t = from;
    let quiet = 0;
    for (let i = 0; i < 400 && quiet < 3 && t < now - 60000; i++) {
      this.store.writes = 0;
      this.tick(t, metas);
      quiet = this.store.writes === 0 ? quiet + 1 : 0;
      t += step;
    }
    return t;
  }

  // The events of seeding happened an hour ago: they would have expired.
  forgetSeedEvents(metas, podsBefore, now) {
    for (const ev of this.store.current(Store.prefix('events'))) {
      const inv = ev.involvedObject;
      const ours = metas.some((m) => inv.namespace === m.ns && (inv.name === m.name || inv.name.startsWith(m.name + '-')));
      if (ours && Date.parse(ev.lastTimestamp) < now - 60000) this.store.remove('events', ev.metadata.namespace, ev.metadata.name);
    }
    for (const [uid, p] of this.pods) if (!podsBefore.has(uid)) p.announced = { scheduled: true, started: true, failed: p.announced.failed };
    this.eventIndex.clear();
  }

  // ---------------------------------------------------------------- time

  // One round of the controllers and the kubelet.  Skipped while nothing
  // was written and nothing is due (a pod's next state, the end of an
  // observation lag, a progress deadline, an event's expiry): an idle
  // cluster costs nothing.
  tick(now, only) {
    this.now = now === undefined ? Date.now() : now;
    const t = this.now;
    if (!only) {
      if (this.store.rev === this.idleRev && t < this.wakeAt) return;
      const before = this.store.rev;
      this.round(t, [...this.workloads.values()], null);
      this.expireEvents(t);
      // a round that wrote something wakes the controllers that watch it
      this.idleRev = this.store.rev === before ? before : -1;
      this.wakeAt = this.nextDue(t);
      return;
    }
    // seeding: the clock is in the past, so only these workloads' pods move
    this.round(t, only, new Set(only.map((m) => Cluster.wkey(m.resource, m.ns, m.name))));
  }

  // The controllers of these workloads, then the kubelet (for the pods of
  // podKeys only, or all: pods of a deleted workload must still go).
  round(t, metas, podKeys) {
    for (const meta of metas) {
      if (meta.resource === 'deployments') {
        syncDeployment(this, meta, t);
        for (const rs of this.owned('replicasets', meta.ns, meta.uid)) syncReplicaSet(this, meta, rs, t);
      } else syncStatefulSet(this, meta, t);
    }
    this.kubelet(t, podKeys);
  }

  // Force the next tick to run (the admin changed something).
  wake() { this.wakeAt = 0; }

  // The earliest time after now at which a tick could change something.
  nextDue(now) {
    let due = Infinity;
    const at = (t) => { if (t > now && t < due) due = t; };
    for (const k of this.pods.values()) { if (!k.stuck) { at(k.runningAt); at(k.readyAt); } if (k.goneAt !== null) at(k.goneAt); }
    for (const m of this.workloads.values()) at(m.specChangedAt + this.settings.observedLagMs);
    for (const w of this.store.current(Store.prefix('deployments'))) {
      const c = ((w.status && w.status.conditions) || []).find((x) => x.type === 'Progressing');
      if (w.spec.minReadySeconds) at(now + 250);
      if (c && !w.spec.paused && !['NewReplicaSetAvailable', 'ProgressDeadlineExceeded'].includes(c.reason) && w.spec.progressDeadlineSeconds !== undefined) {
        at(am.parseTime(c.lastUpdateTime) + w.spec.progressDeadlineSeconds * 1000 + 1);
      }
    }
    for (const s of this.store.current(Store.prefix('statefulsets'))) if (s.spec.minReadySeconds) at(now + 250);
    if (this.settings.eventTtlMs) for (const e of this.store.current(Store.prefix('events'))) at(am.parseTime(e.lastTimestamp) + this.settings.eventTtlMs + 1);
    return due;
  }

  // Objects of resource in ns whose controller is uid (ReplicaSets as copies
  // the controllers change; pods as the store's, to read).
  owned(resource, ns, uid) {
    const list = this.store.current(Store.prefix(resource, ns))
      .filter((o) => (o.metadata.ownerReferences || []).some((r) => r.uid === uid && r.controller))
      .sort((a, b) => (a.metadata.creationTimestamp < b.metadata.creationTimestamp ? -1 : a.metadata.creationTimestamp > b.metadata.creationTimestamp ? 1 : (a.metadata.name < b.metadata.name ? -1 : 1)));
    return resource === 'replicasets' ? list.map(am.clone) : list;
  }

  lagging(meta, now) { return now < meta.specChangedAt + this.settings.observedLagMs; }

  // ---------------------------------------------------------------- pods

  podState(pod, now) {
    const k = this.pods.get(pod.metadata.uid);
    if (!k) return { running: false, ready: false, terminating: !!pod.metadata.deletionTimestamp, readySince: null };
    const running = !k.stuck && now >= k.runningAt;
    const ready = running && now >= k.readyAt;
    return { running, ready, terminating: k.deleteAt !== null, readySince: ready ? k.readyAt : null };
  }

  // A new pod for a controller: scheduled at once, Running after half of
  // converge_ms, Ready after converge_ms (never while the workload is stuck).
  createPod(meta, owner, p, now) {
    const node = NODES[this.podSeq++ % NODES.length];
    const uid = crypto.randomUUID();
    const tspec = am.clone(p.template.spec);
    const spec = ob.ordered([
      ['volumes', tspec.volumes], ['initContainers', tspec.initContainers], ['containers', tspec.containers],
      ['restartPolicy', tspec.restartPolicy], ['terminationGracePeriodSeconds', tspec.terminationGracePeriodSeconds],
      ['dnsPolicy', tspec.dnsPolicy], ['nodeSelector', tspec.nodeSelector],
      ['serviceAccountName', tspec.serviceAccountName || 'default'], ['serviceAccount', tspec.serviceAccountName || 'default'],
      ['nodeName', node.name], ['securityContext', tspec.securityContext], ['imagePullSecrets', tspec.imagePullSecrets],
      ['hostname', p.hostname], ['subdomain', p.subdomain], ['affinity', tspec.affinity], ['schedulerName', tspec.schedulerName],
      ['tolerations', [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]],
      ['priority', 0], ['enableServiceLinks', true], ['preemptionPolicy', 'PreemptLowerPriority'],
    ]);
    const pod = {
      kind: 'Pod', apiVersion: 'v1',
      metadata: ob.objectMeta({
        name: p.name, generateName: p.generateName, namespace: meta.ns, uid, creationTimestamp: am.rfc3339(now),
        labels: p.labels, annotations: p.template.metadata.annotations, ownerReferences: [owner],
      }),
      spec, status: { phase: 'Pending', qosClass: 'BestEffort' },
    };
    const c = this.settings.convergeMs;
    this.pods.set(uid, {
      uid, ns: meta.ns, name: p.name, wkey: Cluster.wkey(meta.resource, meta.ns, meta.name), node,
      podIP: `10.244.${1 + (this.podSeq % 200)}.${2 + Math.floor(Math.random() * 250)}`,
      createdAt: now, runningAt: now + Math.floor(c / 2), readyAt: now + c, stuck: meta.stuck,
      deleteAt: null, goneAt: null, announced: {},
      containerID: crypto.createHash('sha256').update(uid).digest('hex'),
    });
    pod.status = this.podStatus(pod, now);
    this.store.write('pods', meta.ns, p.name, pod);
    this.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${meta.ns}/${p.name} to ${node.name}`, { component: 'default-scheduler' }, now, { reportingInstance: 'default-scheduler-' + node.name });
    this.pods.get(uid).announced.scheduled = true;
    return pod;
  }

  // Graceful deletion: deletionTimestamp = now + grace period, the pod gone
  // after terminate_ms (at once for a grace period of 0).
  deletePod(stored, now, graceSeconds) {
    const pod = am.clone(stored);
    const k = this.pods.get(pod.metadata.uid);
    if (pod.metadata.deletionTimestamp && graceSeconds !== 0) return pod;
    const grace = graceSeconds === undefined ? (pod.spec.terminationGracePeriodSeconds === undefined ? 30 : pod.spec.terminationGracePeriodSeconds) : graceSeconds;
    if (grace === 0 || !k) {
      this.store.remove('pods', pod.metadata.namespace, pod.metadata.name);
      this.pods.delete(pod.metadata.uid);
      return pod;
    }
    pod.metadata.deletionTimestamp = am.rfc3339(now + grace * 1000);
    pod.metadata.deletionGracePeriodSeconds = grace;
    pod.metadata = ob.objectMeta(pod.metadata);
    this.store.write('pods', pod.metadata.namespace, pod.metadata.name, pod);
    k.deleteAt = now;
    k.goneAt = now + this.settings.terminateMs;
    for (const c of pod.spec.containers) {
      this.event(pod, 'Normal', 'Killing', `Stopping container ${c.name}`, { component: 'kubelet', host: k.node.name }, now, { fieldPath: `spec.containers{${c.name}}` });
    }
    return pod;
  }

  podStatus(pod, now) {
    const k = this.pods.get(pod.metadata.uid);
    const st = this.podState(pod, now);
    const created = am.rfc3339(k.createdAt);
    const names = pod.spec.containers.map((c) => c.name);
    const notReady = { status: 'False', lastTransitionTime: created, reason: 'ContainersNotReady', message: `containers with unready status: [${names.join(' ')}]` };
    const readyC = st.ready ? { status: 'True', lastTransitionTime: am.rfc3339(k.readyAt) } : notReady;
    const cond = (type, c) => ob.ordered([['type', type], ['status', c.status], ['lastProbeTime', null], ['lastTransitionTime', c.lastTransitionTime], ['reason', c.reason], ['message', c.message]]);
    const containerStatuses = pod.spec.containers.map((c) => {
      let state;
      if (st.running) state = { running: { startedAt: am.rfc3339(k.runningAt) } };
      else if (k.stuck) state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` } };
      else state = { waiting: { reason: 'ContainerCreating' } };
      return ob.ordered([['name', c.name], ['state', state], ['lastState', {}], ['ready', st.ready], ['restartCount', 0], ['image', c.image],
        ['imageID', st.running ? `${c.image.split(':')[0]}@sha256:${k.containerID}` : ''],
        ['containerID', st.running ? `containerd://${k.containerID}` : undefined], ['started', st.running]]);
    });
    return ob.ordered([
      ['phase', st.running ? 'Running' : 'Pending'],
      ['conditions', [cond('PodReadyToStartContainers', { status: 'True', lastTransitionTime: created }), cond('Initialized', { status: 'True', lastTransitionTime: created }),
        cond('Ready', readyC), cond('ContainersReady', readyC), cond('PodScheduled', { status: 'True', lastTransitionTime: created })]],
      ['hostIP', k.node.ip], ['hostIPs', [{ ip: k.node.ip }]], ['podIP', k.podIP], ['podIPs', [{ ip: k.podIP }]],
      ['startTime', created], ['containerStatuses', containerStatuses], ['qosClass', 'BestEffort'],
    ]);
  }

  // The kubelet: report each pod's state as time passes, remove pods whose
  // termination finished.
  kubelet(now, onlyKeys) {
    for (const pod of this.store.current(Store.prefix('pods'))) {
      const k = this.pods.get(pod.metadata.uid);
      if (!k || (onlyKeys && !onlyKeys.has(k.wkey))) continue;
      if (k.goneAt !== null && now >= k.goneAt) {
        this.store.remove('pods', pod.metadata.namespace, pod.metadata.name);
        this.pods.delete(k.uid);
        continue;
      }
      const status = this.podStatus(pod, now);
      if (JSON.stringify(status) !== JSON.stringify(pod.status)) this.store.write('pods', pod.metadata.namespace, pod.metadata.name, Object.assign({}, pod, { status, metadata: Object.assign({}, pod.metadata) }));
      const src = { component: 'kubelet', host: k.node.name };
      for (const c of pod.spec.containers) {
        const fp = { fieldPath: `spec.containers{${c.name}}` };
        if (this.podState(pod, now).running && !k.announced.started) {
          this.event(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, src, now, fp);
          this.event(pod, 'Normal', 'Created', `Created container: ${c.name}`, src, now, fp);
          this.event(pod, 'Normal', 'Started', `Started container ${c.name}`, src, now, fp);
        } else if (k.stuck && !k.announced.failed && now >= k.createdAt) {
          this.event(pod, 'Warning', 'Failed', `Failed to pull image "${c.image}": rpc error: code = NotFound desc = failed to pull and unpack image "${c.image}": not found`, src, now, fp);
          this.event(pod, 'Normal', 'BackOff', `Back-off pulling image "${c.image}"`, src, now, fp);
        }
      }
      if (this.podState(pod, now).running) k.announced.started = true;
      if (k.stuck) k.announced.failed = true;
    }
  }

  // ---------------------------------------------------------------- events

  // Record a core/v1 Event about obj, as client-go's EventRecorder does: a
  // repeat of the same event raises its count and lastTimestamp.
  event(obj, type, reason, message, source, now, extra) {
    const x = extra || {};
    const ns = obj.metadata.namespace;
    const dedup = [obj.metadata.uid, x.fieldPath || '', reason, message, source.component].join('|');
    const prev = this.eventIndex.get(dedup);
    if (prev) {
      const ev = this.store.get('events', ns, prev);
      if (ev) {
        ev.count += 1;
        ev.lastTimestamp = am.rfc3339(now);
        this.store.write('events', ns, prev, ev);
        return;
      }
    }
    const nanos = BigInt(Math.floor(now)) * 1000000n + BigInt(this.eventSeq++ % 1000000);
    const name = `${obj.metadata.name}.${nanos.toString(16)}`;
    const involved = ob.ordered([['kind', obj.kind], ['namespace', ns], ['name', obj.metadata.name], ['uid', obj.metadata.uid],
      ['apiVersion', obj.apiVersion], ['resourceVersion', obj.metadata.resourceVersion], ['fieldPath', x.fieldPath]]);
    const ev = {
      kind: 'Event', apiVersion: 'v1',
      metadata: ob.objectMeta({ name, namespace: ns, uid: crypto.randomUUID(), creationTimestamp: am.rfc3339(now) }),
      involvedObject: involved, reason, message, source: ob.ordered([['component', source.component], ['host', source.host]]),
      firstTimestamp: am.rfc3339(now), lastTimestamp: am.rfc3339(now), count: 1, type, eventTime: null,
      reportingComponent: source.component, reportingInstance: x.reportingInstance || source.host || '',
    };
    this.store.write('events', ns, name, ev);
    this.eventIndex.set(dedup, name);
  }

  expireEvents(now) {
    const ttl = this.settings.eventTtlMs;
    if (!ttl) return;
    for (const ev of this.store.current(Store.prefix('events'))) {
      if (Date.parse(ev.lastTimestamp) + ttl < now) this.store.remove('events', ev.metadata.namespace, ev.metadata.name);
    }
  }

  // ---------------------------------------------------------------- API writes

  // Store next as the new version of workload cur (a PUT, a PATCH, a scale):
  // status and system metadata kept, spec defaulted and validated, generation
  // raised when the spec changed; a write that changes nothing changes
  // nothing (same resourceVersion).  dryRun: checked, not stored.
  updateWorkload(resource, cur, next, dryRun) {
    const kind = RESOURCES[resource];
    const name = cur.metadata.name;
    const nm = (next && next.metadata) || {};
    if (nm.uid && nm.uid !== cur.metadata.uid) {
      throw am.errors.conflict('apps', resource, name, `Precondition failed: UID in precondition: ${nm.uid}, UID in object meta: ${cur.metadata.uid}`);
    }
    if (nm.resourceVersion && nm.resourceVersion !== cur.metadata.resourceVersion) throw am.errors.optimisticLock('apps', resource, name);
    const spec = (next && next.spec) || {};
    if (!am.isObj(spec)) throw am.errors.badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: json: cannot unmarshal ${typeof spec} into Go struct field ${kind}.spec of type v1.${kind}Spec`);
    if (spec.replicas !== undefined && spec.replicas !== null && !Number.isInteger(spec.replicas)) {
      throw am.errors.badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: json: cannot unmarshal ${typeof spec.replicas} into Go struct field ${kind}Spec.spec.replicas of type int32`);
    }
    const defaulted = resource === 'deployments' ? ob.defaultDeploymentSpec(spec) : ob.defaultStatefulSetSpec(spec);
    validateWorkload(kind, name, defaulted, cur.spec);
    const out = am.clone(cur);
    out.metadata = ob.objectMeta(Object.assign({}, cur.metadata, { labels: nm.labels || undefined, annotations: nm.annotations || undefined }));
    out.spec = defaulted;
    const specChanged = am.canonicalJSON(defaulted) !== am.canonicalJSON(cur.spec);
    if (specChanged) out.metadata.generation = cur.metadata.generation + 1;
    if (dryRun) return out;
    const written = this.store.writeIfChanged(resource, cur.metadata.namespace, name, out);
    const meta = this.workloads.get(Cluster.wkey(resource, cur.metadata.namespace, name));
    if (written && specChanged && meta) meta.specChangedAt = Date.now();
    return out;
  }

  // Remove a workload; its ReplicaSets go with it and its pods terminate
  // (background cascading deletion).
  removeWorkload(resource, ns, name, now, quiet) {
    const obj = this.store.get(resource, ns, name);
    if (!obj) return null;
    this.store.remove(resource, ns, name);
    this.workloads.delete(Cluster.wkey(resource, ns, name));
    for (const rs of this.owned('replicasets', ns, obj.metadata.uid)) {
      this.store.remove('replicasets', ns, rs.metadata.name);
      for (const pod of this.owned('pods', ns, rs.metadata.uid)) quiet ? this.deletePod(pod, now, 0) : this.deletePod(pod, now);
    }
    for (const pod of this.owned('pods', ns, obj.metadata.uid)) quiet ? this.deletePod(pod, now, 0) : this.deletePod(pod, now);
    this.revisions.delete(obj.metadata.uid);
    return obj;
  }

  // The "rollout that never finishes" switch: pods created while it is on
  // never become ready (image pull back-off); off: they start now.
  setStuck(meta, stuck, now) {
    meta.stuck = !!stuck;
    this.wake();
    if (stuck) return;
    const c = this.settings.convergeMs;
    const key = Cluster.wkey(meta.resource, meta.ns, meta.name);
    for (const k of this.pods.values()) {
      if (k.wkey !== key || !k.stuck) continue;
      k.stuck = false;
      k.runningAt = now + Math.floor(c / 2);
      k.readyAt = now + c;
    }
  }

  workloadView(meta, now) {
    const obj = this.store.get(meta.resource, meta.ns, meta.name);
    const pods = this.store.current(Store.prefix('pods', meta.ns)).filter((p) => {
      const k = this.pods.get(p.metadata.uid);
      return k && k.wkey === Cluster.wkey(meta.resource, meta.ns, meta.name);
    }).map((p) => {
      const st = this.podState(p, now);
      return { name: p.metadata.name, phase: p.status.phase, ready: st.ready, terminating: st.terminating };
    });
    return {
      kind: meta.kind, namespace: meta.ns, name: meta.name, stuck: meta.stuck, lagging: this.lagging(meta, now),
      generation: obj.metadata.generation, observed_generation: (obj.status && obj.status.observedGeneration) || 0,
      replicas: obj.spec.replicas, paused: !!obj.spec.paused, resource_version: obj.metadata.resourceVersion, status: obj.status, pods,
    };
  }
}

// The subset of apps/validation the double's writes can break.
function goMap(m) { return `map[string]string{${Object.keys(m || {}).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(m[k])}`).join(', ')}}`; }
function validateWorkload(kind, name, spec, oldSpec) {
  const errs = [];
  if (spec.replicas < 0) errs.push({ type: 'FieldValueInvalid', field: 'spec.replicas', body: `Invalid value: ${spec.replicas}: must be greater than or equal to 0` });
  if (am.canonicalJSON(spec.selector) !== am.canonicalJSON(oldSpec.selector)) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.selector', body: `Invalid value: v1.LabelSelector{MatchLabels:${goMap(spec.selector.matchLabels)}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable` });
  }
  const tl = (spec.template.metadata && spec.template.metadata.labels) || {};
  if (!am.labelsMatch(am.selectorRequirements(spec.selector), tl)) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.template.metadata.labels', body: `Invalid value: ${goMap(tl)}: \`selector\` does not match template \`labels\`` });
  }
  if (!spec.template.spec.containers.length) errs.push({ type: 'FieldValueRequired', field: 'spec.template.spec.containers', body: 'Required value' });
  if (kind === 'Deployment') {
    const t = spec.strategy.type;
    if (t !== 'RollingUpdate' && t !== 'Recreate') errs.push({ type: 'FieldValueNotSupported', field: 'spec.strategy.type', body: `Unsupported value: "${t}": supported values: "Recreate", "RollingUpdate"` });
    if (t === 'Recreate' && spec.strategy.rollingUpdate) errs.push({ type: 'FieldValueForbidden', field: 'spec.strategy.rollingUpdate', body: "Forbidden: may not be specified when strategy `type` is 'Recreate'" });
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds || 0)) errs.push({ type: 'FieldValueInvalid', field: 'spec.progressDeadlineSeconds', body: `Invalid value: ${spec.progressDeadlineSeconds}: must be greater than minReadySeconds` });
  } else {
    const t = spec.updateStrategy.type;
    if (t !== 'RollingUpdate' && t !== 'OnDelete') errs.push({ type: 'FieldValueNotSupported', field: 'spec.updateStrategy', body: `Unsupported value: "${t}": supported values: "OnDelete", "RollingUpdate"` });
    const rest = (s) => am.canonicalJSON(Object.assign({}, s, { replicas: 0, ordinals: 0, template: 0, updateStrategy: 0, persistentVolumeClaimRetentionPolicy: 0, minReadySeconds: 0 }));
    if (rest(spec) !== rest(oldSpec)) {
      errs.push({ type: 'FieldValueForbidden', field: 'spec', body: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" });
    }
  }
  if (errs.length) throw am.errors.invalid('apps', kind, name, errs);
}

module.exports = { Cluster, RESOURCES, NODES };
