'use strict';
// The workload controllers, following kube-controller-manager's:
//   Deployment  pkg/controller/deployment: syncDeployment (paused ->
//               sync/scale, scaling event -> sync/scale, else rolloutRolling
//               or rolloutRecreate), syncRolloutStatus (Progressing:
//               NewReplicaSetCreated, ReplicaSetUpdated, NewReplicaSetAvailable,
//               ProgressDeadlineExceeded; DeploymentPaused/Resumed),
//               calculateStatus (Available: MinimumReplicasAvailable/Unavailable)
//   ReplicaSet  pkg/controller/replicaset: create/delete pods toward
//               spec.replicas, status from non-terminating pods
//   StatefulSet pkg/controller/statefulset: ordinals, OrderedReady or
//               Parallel, RollingUpdate (with partition) or OnDelete,
//               currentRevision/updateRevision.
// Each function is one sync of one object at time `now`.

const am = require('./apimachinery');
const ob = require('./objects');

const NEW_RS_AVAILABLE = 'NewReplicaSetAvailable';
const TIMED_OUT = 'ProgressDeadlineExceeded';
const PAUSED = 'DeploymentPaused';
const RESUMED = 'DeploymentResumed';

// ---------------------------------------------------------------- deployment utilities

function intOrPercent(v, total, roundUp) {
  if (typeof v === 'number') return v;
  const s = String(v);
  if (s.endsWith('%')) { const x = (Number(s.slice(0, -1)) * total) / 100; return roundUp ? Math.ceil(x) : Math.floor(x); }
  return Number(s) || 0;
}
// deploymentutil.ResolveFenceposts.
function fenceposts(d) {
  const ru = d.spec.strategy.rollingUpdate || {};
  const desired = d.spec.replicas;
  const surge = intOrPercent(ru.maxSurge === undefined ? '25%' : ru.maxSurge, desired, true);
  let unavailable = intOrPercent(ru.maxUnavailable === undefined ? '25%' : ru.maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}
const isRolling = (d) => d.spec.strategy.type === 'RollingUpdate';
function maxSurge(d) { return isRolling(d) ? fenceposts(d).surge : 0; }
function maxUnavailable(d) {
  if (!isRolling(d) || d.spec.replicas === 0) return 0;
  return Math.min(fenceposts(d).unavailable, d.spec.replicas);
}
const hasProgressDeadline = (d) => d.spec.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds !== 2147483647;
const rsReplicas = (rs) => rs.spec.replicas || 0;
const rsRevision = (rs) => Number((rs.metadata.annotations || {})[ob.REVISION] || 0);
const sum = (list, f) => list.reduce((n, x) => n + f(x), 0);
const getCond = (status, type) => (status.conditions || []).find((c) => c.type === type) || null;

// deploymentutil.SetDeploymentCondition: no change for the same status and
// reason; lastTransitionTime kept when only the reason changes; the
// condition moves to the end of the list.
function setCond(status, c) {
  const cur = getCond(status, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  if (cur && cur.status === c.status) c.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = (status.conditions || []).filter((x) => x.type !== c.type).concat([c]);
}
function newCond(type, st, reason, message, now) {
  const t = am.rfc3339(now);
  return { type, status: st, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

// ---------------------------------------------------------------- deployment controller

function syncDeployment(cluster, meta, now) {
  const d = cluster.store.get('deployments', meta.ns, meta.name);
  if (!d || cluster.lagging(meta, now)) return;
  const x = { cluster, d, now, rsList: cluster.owned('replicasets', meta.ns, d.metadata.uid), status: am.clone(d.status || {}) };
  checkPausedConditions(x);
  if (d.spec.paused || isScalingEvent(x)) syncScaling(x);
  else if (d.spec.strategy.type === 'Recreate') rolloutRecreate(x);
  else rolloutRolling(x);
  d.metadata = ob.objectMeta(d.metadata);
  d.status = ob.deploymentStatus(x.status);
  cluster.store.writeIfChanged('deployments', meta.ns, meta.name, d);
}

function checkPausedConditions(x) {
  const cond = getCond(x.status, 'Progressing');
  if (cond && cond.reason === TIMED_OUT) return;
  const pausedExists = cond && cond.reason === PAUSED;
  if (x.d.spec.paused && !pausedExists) setCond(x.status, newCond('Progressing', 'Unknown', PAUSED, 'Deployment is paused', x.now));
  else if (!x.d.spec.paused && pausedExists) setCond(x.status, newCond('Progressing', 'Unknown', RESUMED, 'Deployment is resumed', x.now));
}

// The ReplicaSet whose template is the Deployment's, the others, and (when
// asked) a new one created with revision max(old)+1.
function newAndOld(x, create) {
  const d = x.d;
  const hash = am.templateHash(d.spec.template);
  let newRS = x.rsList.find((rs) => rs.metadata.labels && rs.metadata.labels['pod-template-hash'] === hash) || null;
  const oldRSs = x.rsList.filter((rs) => rs !== newRS);
  const newRevision = Math.max(0, ...oldRSs.map(rsRevision)) + 1;
  if (newRS) {
    if (rsRevision(newRS) < newRevision) { newRS.metadata.annotations[ob.REVISION] = String(newRevision); writeRS(x, newRS); }
    setDeploymentRevision(x, rsRevision(newRS));
    if (hasProgressDeadline(d) && !getCond(x.status, 'Progressing')) {
      setCond(x.status, newCond('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${newRS.metadata.name}"`, x.now));
    }
    return { newRS, oldRSs };
  }
  if (!create) return { newRS: null, oldRSs };
  const name = `${d.metadata.name}-${hash}`;
  const template = am.clone(d.spec.template);
  template.metadata.labels = ob.sortKeys(Object.assign({}, template.metadata.labels, { 'pod-template-hash': hash }));
  const selector = am.clone(d.spec.selector);
  selector.matchLabels = ob.sortKeys(Object.assign({}, selector.matchLabels, { 'pod-template-hash': hash }));
  newRS = {
    kind: 'ReplicaSet', apiVersion: 'apps/v1',
    metadata: ob.objectMeta({
      name, namespace: d.metadata.namespace, uid: require('crypto').randomUUID(), generation: 1, creationTimestamp: am.rfc3339(x.now),
      labels: template.metadata.labels, ownerReferences: [ob.ownerRef('Deployment', d)],
      annotations: { [ob.DESIRED]: String(d.spec.replicas), [ob.MAX_REPLICAS]: String(d.spec.replicas + maxSurge(d)), [ob.REVISION]: String(newRevision) },
    }),
    spec: ob.ordered([['replicas', 0], ['minReadySeconds', d.spec.minReadySeconds], ['selector', selector], ['template', template]]),
    status: { replicas: 0 },
  };
  const replicas = newRSNewReplicas(d, oldRSs.concat([newRS]), newRS);
  newRS.spec.replicas = replicas;
  x.cluster.store.write('replicasets', d.metadata.namespace, name, newRS);
  x.rsList.push(newRS);
  if (replicas > 0) deploymentEvent(x, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
  setDeploymentRevision(x, newRevision);
  if (hasProgressDeadline(d)) setCond(x.status, newCond('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`, x.now));
  return { newRS, oldRSs };
}

function setDeploymentRevision(x, revision) {
  const a = x.d.metadata.annotations || (x.d.metadata.annotations = {});
  if (a[ob.REVISION] !== String(revision)) a[ob.REVISION] = String(revision);
}

function writeRS(x, rs) {
  rs.metadata = ob.objectMeta(rs.metadata);
  x.cluster.store.writeIfChanged('replicasets', rs.metadata.namespace, rs.metadata.name, rs);
}

function deploymentEvent(x, type, reason, message) {
  x.cluster.event(x.d, type, reason, message, { component: 'deployment-controller' }, x.now);
}

// deploymentutil.NewRSNewReplicas.
function newRSNewReplicas(d, allRSs, newRS) {
  if (!isRolling(d)) return d.spec.replicas;
  const current = sum(allRSs, rsReplicas);
  const maxTotal = d.spec.replicas + maxSurge(d);
  if (current >= maxTotal) return rsReplicas(newRS);
  const up = Math.min(maxTotal - current, d.spec.replicas - rsReplicas(newRS));
  return rsReplicas(newRS) + up;
}

// scaleReplicaSetAndRecordEvent, with the desired/max-replicas annotations.
function scaleRS(x, rs, newScale) {
  const d = x.d;
  const old = rsReplicas(rs);
  const a = rs.metadata.annotations || (rs.metadata.annotations = {});
  const wantDesired = String(d.spec.replicas);
  const wantMax = String(d.spec.replicas + maxSurge(d));
  if (old === newScale && a[ob.DESIRED] === wantDesired && a[ob.MAX_REPLICAS] === wantMax) return false;
  a[ob.DESIRED] = wantDesired;
  a[ob.MAX_REPLICAS] = wantMax;
  if (old !== newScale) { rs.spec.replicas = newScale; rs.metadata.generation = (rs.metadata.generation || 1) + 1; }
  writeRS(x, rs);
  if (old !== newScale) deploymentEvent(x, 'Normal', 'ScalingReplicaSet', `Scaled ${old < newScale ? 'up' : 'down'} replica set ${rs.metadata.name} to ${newScale} from ${old}`);
  return old !== newScale;
}

// isScalingEvent: an active ReplicaSet was sized for another replica count.
function isScalingEvent(x) {
  const { newRS, oldRSs } = newAndOld(x, false);
  return oldRSs.concat(newRS ? [newRS] : []).filter((rs) => rsReplicas(rs) > 0).some((rs) => {
    const desired = (rs.metadata.annotations || {})[ob.DESIRED];
    return desired !== undefined && Number(desired) !== x.d.spec.replicas;
  });
}

// sync(): scale (proportionally when several ReplicaSets are active), the
// status; no rollout.  Runs for paused Deployments and scaling events.
function syncScaling(x) {
  const d = x.d;
  const { newRS, oldRSs } = newAndOld(x, false);
  const all = oldRSs.concat(newRS ? [newRS] : []);
  const active = all.filter((rs) => rsReplicas(rs) > 0);
  let target = null;
  if (active.length === 1) target = active[0];
  else if (active.length === 0) target = newRS || (oldRSs.length ? oldRSs[oldRSs.length - 1] : null);
  if (target) {
    if (rsReplicas(target) !== d.spec.replicas) scaleRS(x, target, d.spec.replicas);
  } else if (newRS && rsReplicas(newRS) === d.spec.replicas && all.length) {
    for (const rs of active) if (rs !== newRS) scaleRS(x, rs, 0); // a saturated new ReplicaSet
  } else if (isRolling(d)) {
    // Proportional scaling: each active ReplicaSet gets its share of the
    // new allowed total, the rest goes to the largest (newest on a tie).
    const allowed = d.spec.replicas > 0 ? d.spec.replicas + maxSurge(d) : 0;
    const total = sum(active, rsReplicas);
    const sizes = active.map((rs) => Math.floor((rsReplicas(rs) * allowed) / total));
    let left = allowed - sum(sizes, (n) => n);
    const order = active.map((rs, i) => i).sort((a, b) => rsReplicas(active[b]) - rsReplicas(active[a]) || b - a);
    for (const i of order) { if (left <= 0) break; sizes[i]++; left--; }
    active.forEach((rs, i) => scaleRS(x, rs, sizes[i]));
  }
  x.status = calculateStatus(x, all, newRS);
}

// calculateStatus: counts from the ReplicaSets, the Available condition.
function calculateStatus(x, allRSs, newRS) {
  const d = x.d;
  const available = sum(allRSs, (rs) => rs.status.availableReplicas || 0);
  const total = sum(allRSs, rsReplicas);
  const status = {
    observedGeneration: d.metadata.generation,
    replicas: sum(allRSs, (rs) => rs.status.replicas || 0),
    updatedReplicas: newRS ? (newRS.status.replicas || 0) : 0,
    readyReplicas: sum(allRSs, (rs) => rs.status.readyReplicas || 0),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    conditions: am.clone(x.status.conditions || []),
    collisionCount: x.status.collisionCount,
  };
  if (available >= d.spec.replicas - maxUnavailable(d)) {
    setCond(status, newCond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', x.now));
  } else {
    setCond(status, newCond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', x.now));
  }
  return status;
}

function deploymentComplete(d, s) {
  const r = d.spec.replicas;
  return s.updatedReplicas === r && s.replicas === r && s.availableReplicas === r && s.observedGeneration >= d.metadata.generation;
}
function deploymentProgressing(old, s) {
  const oldOld = (old.replicas || 0) - (old.updatedReplicas || 0);
  const newOld = s.replicas - s.updatedReplicas;
  return s.updatedReplicas > (old.updatedReplicas || 0) || newOld < oldOld || s.readyReplicas > (old.readyReplicas || 0) || s.availableReplicas > (old.availableReplicas || 0);
}
function deploymentTimedOut(d, s, now) {
  if (!hasProgressDeadline(d)) return false;
  const c = getCond(s, 'Progressing');
  if (!c || c.reason === NEW_RS_AVAILABLE) return false;
  if (c.reason === TIMED_OUT) return true;
  // the time stamps carry whole seconds, as the controller reads them
  return am.parseTime(c.lastUpdateTime) + d.spec.progressDeadlineSeconds * 1000 < now;
}

function syncRolloutStatus(x, allRSs, newRS) {
  const d = x.d;
  const s = calculateStatus(x, allRSs, newRS);
  if (!hasProgressDeadline(d)) s.conditions = s.conditions.filter((c) => c.type !== 'Progressing');
  // d.Status as this sync left it so far (conditions set above included)
  const cur = getCond(x.status, 'Progressing');
  const complete = s.replicas === s.updatedReplicas && cur && cur.reason === NEW_RS_AVAILABLE;
  if (hasProgressDeadline(d) && !complete) {
    const rsName = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
    if (deploymentComplete(d, s)) {
      setCond(s, newCond('Progressing', 'True', NEW_RS_AVAILABLE, `${rsName} has successfully progressed.`, x.now));
    } else if (deploymentProgressing(x.status, s)) {
      const c = newCond('Progressing', 'True', 'ReplicaSetUpdated', `${rsName} is progressing.`, x.now);
      const prev = getCond(s, 'Progressing');
      if (prev) {
        if (prev.status === 'True') c.lastTransitionTime = prev.lastTransitionTime;
        s.conditions = s.conditions.filter((k) => k.type !== 'Progressing');
      }
      setCond(s, c);
    } else if (deploymentTimedOut(d, s, x.now)) {
      setCond(s, newCond('Progressing', 'False', TIMED_OUT, `${rsName} has timed out progressing.`, x.now));
    }
  }
  x.status = s;
}

// Keep spec.revisionHistoryLimit old ReplicaSets that have no pods.
function cleanup(x, oldRSs) {
  const limit = x.d.spec.revisionHistoryLimit === undefined ? 10 : x.d.spec.revisionHistoryLimit;
  const idle = oldRSs.filter((rs) => rsReplicas(rs) === 0 && !(rs.status.replicas > 0)).sort((a, b) => rsRevision(a) - rsRevision(b));
  for (let i = 0; i < idle.length - limit; i++) {
    if (x.cluster.owned('pods', x.d.metadata.namespace, idle[i].metadata.uid).length) continue;
    x.cluster.store.remove('replicasets', x.d.metadata.namespace, idle[i].metadata.name);
  }
}

function rolloutRolling(x) {
  const d = x.d;
  const { newRS, oldRSs } = newAndOld(x, true);
  const all = oldRSs.concat([newRS]);
  // reconcileNewReplicaSet
  if (rsReplicas(newRS) !== d.spec.replicas) {
    const target = rsReplicas(newRS) > d.spec.replicas ? d.spec.replicas : newRSNewReplicas(d, all, newRS);
    if (target !== rsReplicas(newRS) && scaleRS(x, newRS, target)) return syncRolloutStatus(x, all, newRS);
  }
  // reconcileOldReplicaSets
  if (reconcileOld(x, all, oldRSs, newRS)) return syncRolloutStatus(x, all, newRS);
  if (deploymentComplete(d, x.status)) cleanup(x, oldRSs);
  return syncRolloutStatus(x, all, newRS);
}

function reconcileOld(x, all, oldRSs, newRS) {
  const d = x.d;
  if (sum(oldRSs, rsReplicas) === 0) return false;
  const minAvailable = d.spec.replicas - maxUnavailable(d);
  const newUnavailable = rsReplicas(newRS) - (newRS.status.availableReplicas || 0);
  const maxScaledDown = sum(all, rsReplicas) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  let scaled = 0;
  // cleanupUnhealthyReplicas: old pods that are not available go first
  for (const rs of oldRSs.slice().sort((a, b) => (a.metadata.creationTimestamp < b.metadata.creationTimestamp ? -1 : 1))) {
    if (scaled >= maxScaledDown) break;
    const unhealthy = rsReplicas(rs) - (rs.status.availableReplicas || 0);
    if (rsReplicas(rs) === 0 || unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - scaled, unhealthy);
    scaleRS(x, rs, rsReplicas(rs) - n);
    scaled += n;
  }
  // scaleDownOldReplicaSetsForRollingUpdate
  const availableNow = sum(all, (rs) => rs.status.availableReplicas || 0);
  if (availableNow > minAvailable) {
    let budget = availableNow - minAvailable;
    for (const rs of oldRSs.slice().sort((a, b) => (a.metadata.creationTimestamp < b.metadata.creationTimestamp ? -1 : 1))) {
      if (budget <= 0) break;
      if (rsReplicas(rs) === 0) continue;
      const n = Math.min(rsReplicas(rs), budget);
      scaleRS(x, rs, rsReplicas(rs) - n);
      budget -= n;
      scaled += n;
    }
  }
  return scaled > 0;
}

function rolloutRecreate(x) {
  const d = x.d;
  let { newRS, oldRSs } = newAndOld(x, false);
  let all = oldRSs.concat(newRS ? [newRS] : []);
  let down = false;
  for (const rs of oldRSs) if (rsReplicas(rs) > 0) down = scaleRS(x, rs, 0) || down;
  if (down) return syncRolloutStatus(x, all, newRS);
  const oldPods = oldRSs.some((rs) => x.cluster.owned('pods', d.metadata.namespace, rs.metadata.uid).length > 0);
  if (oldPods) return syncRolloutStatus(x, all, newRS);
  if (!newRS) { ({ newRS, oldRSs } = newAndOld(x, true)); all = oldRSs.concat([newRS]); }
  if (rsReplicas(newRS) !== d.spec.replicas) { scaleRS(x, newRS, d.spec.replicas); return syncRolloutStatus(x, all, newRS); }
  if (deploymentComplete(d, x.status)) cleanup(x, oldRSs);
  return syncRolloutStatus(x, all, newRS);
}

// ---------------------------------------------------------------- replicaset controller

// Pods to delete first (controller.ActivePodsWithRanks): not running before
// running, not ready before ready, newer before older.
function deletionOrder(cluster, pods, now) {
  return pods.slice().sort((a, b) => {
    const sa = cluster.podState(a, now);
    const sb = cluster.podState(b, now);
    if (sa.running !== sb.running) return sa.running ? 1 : -1;
    if (sa.ready !== sb.ready) return sa.ready ? 1 : -1;
    return a.metadata.creationTimestamp > b.metadata.creationTimestamp ? -1 : a.metadata.creationTimestamp < b.metadata.creationTimestamp ? 1 : 0;
  });
}

function syncReplicaSet(cluster, meta, rs, now) {
  const ns = rs.metadata.namespace;
  let pods = cluster.owned('pods', ns, rs.metadata.uid);
  let active = pods.filter((p) => !p.metadata.deletionTimestamp);
  const diff = active.length - rsReplicas(rs);
  const src = { component: 'replicaset-controller' };
  if (diff < 0) {
    for (let i = 0; i < -diff; i++) {
      const name = `${rs.metadata.name}-${am.randomSuffix(5)}`;
      cluster.createPod(meta, ob.ownerRef('ReplicaSet', rs), { name, generateName: `${rs.metadata.name}-`, labels: rs.spec.template.metadata.labels, template: rs.spec.template }, now);
      cluster.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, src, now);
    }
  } else if (diff > 0) {
    for (const pod of deletionOrder(cluster, active, now).slice(0, diff)) {
      cluster.deletePod(pod, now);
      cluster.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, src, now);
    }
  }
  pods = cluster.owned('pods', ns, rs.metadata.uid);
  active = pods.filter((p) => !p.metadata.deletionTimestamp);
  const minReady = (rs.spec.minReadySeconds || 0) * 1000;
  const states = active.map((p) => cluster.podState(p, now));
  const out = am.clone(rs);
  out.status = ob.replicaSetStatus({
    replicas: active.length, fullyLabeledReplicas: active.length,
    readyReplicas: states.filter((s) => s.ready).length,
    availableReplicas: states.filter((s) => s.ready && now - s.readySince >= minReady).length,
    observedGeneration: rs.metadata.generation,
  });
  cluster.store.writeIfChanged('replicasets', ns, rs.metadata.name, out);
  rs.status = out.status;
}

// ---------------------------------------------------------------- statefulset controller

function revisionOf(cluster, set, template) {
  const hash = am.templateHash(template);
  const name = `${set.metadata.name}-${hash}`;
  let revs = cluster.revisions.get(set.metadata.uid);
  if (!revs) { revs = new Map(); cluster.revisions.set(set.metadata.uid, revs); }
  if (!revs.has(name)) revs.set(name, { template: am.clone(template), revision: revs.size + 1 });
  return name;
}

function syncStatefulSet(cluster, meta, now) {
  const set = cluster.store.get('statefulsets', meta.ns, meta.name);
  if (!set || cluster.lagging(meta, now)) return;
  const ns = meta.ns;
  const replicas = set.spec.replicas;
  const updateRevision = revisionOf(cluster, set, set.spec.template);
  const currentRevision = (set.status && set.status.currentRevision) || updateRevision;
  const rolling = set.spec.updateStrategy.type === 'RollingUpdate';
  const partition = rolling ? (set.spec.updateStrategy.rollingUpdate || {}).partition || 0 : 0;
  const monotonic = set.spec.podManagementPolicy !== 'Parallel';
  const src = { component: 'statefulset-controller' };
  const ordinalOf = (p) => Number(p.metadata.name.slice(set.metadata.name.length + 1));
  const revisionLabel = (p) => p.metadata.labels['controller-revision-hash'];
  const healthy = (p) => { const s = cluster.podState(p, now); return s.running && s.ready && !s.terminating; };
  const pods = () => cluster.owned('pods', ns, set.metadata.uid);
  const byOrd = new Map(pods().map((p) => [ordinalOf(p), p]));

  const create = (ord) => {
    const rev = rolling && ord < partition ? currentRevision : updateRevision;
    const revs = cluster.revisions.get(set.metadata.uid);
    const template = (revs.get(rev) || revs.get(updateRevision)).template;
    const name = `${set.metadata.name}-${ord}`;
    const labels = ob.sortKeys(Object.assign({}, template.metadata.labels, {
      'apps.kubernetes.io/pod-index': String(ord), 'controller-revision-hash': rev, 'statefulset.kubernetes.io/pod-name': name,
    }));
    cluster.createPod(meta, ob.ownerRef('StatefulSet', set), { name, labels, template, hostname: name, subdomain: set.spec.serviceName || undefined }, now);
    cluster.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} successful`, src, now);
  };
  const remove = (pod) => {
    cluster.deletePod(pod, now);
    cluster.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`, src, now);
  };

  let blocked = false;
  // the replicas [0, replicas): create what is missing, in order
  for (let ord = 0; ord < replicas && !blocked; ord++) {
    const pod = byOrd.get(ord);
    if (!pod) { create(ord); if (monotonic) blocked = true; continue; }
    if (cluster.podState(pod, now).terminating) { if (monotonic) blocked = true; continue; }
    if (!healthy(pod) && monotonic) blocked = true;
  }
  // the condemned (ordinal >= replicas): highest first
  if (!blocked) {
    const condemned = [...byOrd.entries()].filter(([o]) => o >= replicas).sort((a, b) => b[0] - a[0]).map(([, p]) => p);
    for (const pod of condemned) {
      if (cluster.podState(pod, now).terminating) { if (monotonic) { blocked = true; break; } continue; }
      remove(pod);
      if (monotonic) { blocked = true; break; }
    }
  }
  // rolling update: highest ordinal first, down to the partition, one at a time
  if (!blocked && rolling) {
    for (let ord = replicas - 1; ord >= partition; ord--) {
      const pod = byOrd.get(ord);
      if (!pod) continue;
      if (revisionLabel(pod) !== updateRevision && !cluster.podState(pod, now).terminating) { remove(pod); break; }
      if (!healthy(pod)) break;
    }
  }

  // status (computeReplicaStatus, completeRollingUpdate)
  const s = { observedGeneration: set.metadata.generation, replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0,
    currentRevision, updateRevision, collisionCount: 0 };
  const minReady = (set.spec.minReadySeconds || 0) * 1000;
  for (const pod of pods()) {
    const st = cluster.podState(pod, now);
    s.replicas++;
    if (st.running && st.ready) { s.readyReplicas++; if (now - st.readySince >= minReady) s.availableReplicas++; }
    if (!st.terminating) {
      if (revisionLabel(pod) === currentRevision) s.currentReplicas++;
      if (revisionLabel(pod) === updateRevision) s.updatedReplicas++;
    }
  }
  if (rolling && s.updatedReplicas === s.replicas && s.readyReplicas === s.replicas) {
    s.currentReplicas = s.updatedReplicas;
    s.currentRevision = updateRevision;
  }
  set.status = ob.statefulSetStatus(s);
  cluster.store.writeIfChanged('statefulsets', ns, meta.name, set);
}

module.exports = { syncDeployment, syncReplicaSet, syncStatefulSet, fenceposts, maxUnavailable };
