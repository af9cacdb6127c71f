'use strict';
// Builders of the objects the double serves, in the shape the API server
// returns them: field order as encoding/json writes the Go structs, map keys
// sorted (Go sorts them), defaults as the apps/v1 and core/v1 defaulting
// functions set them, and zero status fields left out where the type says
// omitempty (apps/v1 DeploymentStatus: all of them; StatefulSetStatus:
// all but replicas and availableReplicas).

const crypto = require('crypto');
const am = require('./apimachinery');

const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

function sortKeys(m) {
  if (!m || typeof m !== 'object') return m;
  const out = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

// Build an object from [key, value] pairs, leaving out undefined values (and
// with omitEmpty, zeros, empty strings and empty arrays/objects too).
function ordered(pairs, omitEmpty) {
  const o = {};
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    if (omitEmpty && (v === 0 || v === '' || v === false || (Array.isArray(v) && !v.length))) continue;
    o[k] = v;
  }
  return o;
}

// The fields of ObjectMeta in their Go order.
function objectMeta(m) {
  return ordered([
    ['name', m.name], ['generateName', m.generateName], ['namespace', m.namespace], ['uid', m.uid],
    ['resourceVersion', m.resourceVersion], ['generation', m.generation], ['creationTimestamp', m.creationTimestamp],
    ['deletionTimestamp', m.deletionTimestamp], ['deletionGracePeriodSeconds', m.deletionGracePeriodSeconds],
    ['labels', m.labels && Object.keys(m.labels).length ? sortKeys(m.labels) : undefined],
    ['annotations', m.annotations && Object.keys(m.annotations).length ? sortKeys(m.annotations) : undefined],
    ['ownerReferences', m.ownerReferences], ['finalizers', m.finalizers && m.finalizers.length ? m.finalizers : undefined],
  ]);
}

// core/v1 SetDefaults for a container and a pod spec (the parts the double's
// templates use).
function defaultContainer(c) {
  const image = c.image || '';
  const tag = image.includes('@') ? null : (image.lastIndexOf(':') > image.lastIndexOf('/') ? image.slice(image.lastIndexOf(':') + 1) : 'latest');
  return Object.assign({}, c, {
    resources: c.resources || {},
    terminationMessagePath: c.terminationMessagePath || '/dev/termination-log',
    terminationMessagePolicy: c.terminationMessagePolicy || 'File',
    imagePullPolicy: c.imagePullPolicy || (tag === 'latest' ? 'Always' : 'IfNotPresent'),
  });
}
function defaultPodSpec(s) {
  const spec = Object.assign({}, s || {});
  spec.containers = (spec.containers || []).map(defaultContainer);
  if (spec.restartPolicy === undefined) spec.restartPolicy = 'Always';
  if (spec.terminationGracePeriodSeconds === undefined) spec.terminationGracePeriodSeconds = 30;
  if (spec.dnsPolicy === undefined) spec.dnsPolicy = 'ClusterFirst';
  if (spec.securityContext === undefined) spec.securityContext = {};
  if (spec.schedulerName === undefined) spec.schedulerName = 'default-scheduler';
  return spec;
}
function defaultTemplate(t) {
  const tm = (t && t.metadata) || {};
  const meta = ordered([['creationTimestamp', null],
    ['labels', tm.labels && Object.keys(tm.labels).length ? sortKeys(tm.labels) : undefined],
    ['annotations', tm.annotations && Object.keys(tm.annotations).length ? sortKeys(tm.annotations) : undefined]]);
  for (const [k, v] of Object.entries(tm)) if (!(k in meta) && k !== 'creationTimestamp') meta[k] = v;
  return { metadata: meta, spec: defaultPodSpec(t && t.spec) };
}
function defaultSelector(sel) {
  const out = {};
  if (sel && sel.matchLabels && Object.keys(sel.matchLabels).length) out.matchLabels = sortKeys(sel.matchLabels);
  if (sel && sel.matchExpressions && sel.matchExpressions.length) out.matchExpressions = sel.matchExpressions;
  return out;
}

// apps/v1 SetDefaults_Deployment, fields in DeploymentSpec order.
function defaultDeploymentSpec(s) {
  const strategy = Object.assign({}, s.strategy || {});
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = Object.assign({}, strategy.rollingUpdate || {});
    strategy.rollingUpdate = { maxUnavailable: ru.maxUnavailable === undefined ? '25%' : ru.maxUnavailable, maxSurge: ru.maxSurge === undefined ? '25%' : ru.maxSurge };
  }
  return ordered([
    ['replicas', s.replicas === undefined ? 1 : s.replicas], ['selector', defaultSelector(s.selector)], ['template', defaultTemplate(s.template)],
    ['strategy', ordered([['type', strategy.type], ['rollingUpdate', strategy.rollingUpdate]])],
    ['minReadySeconds', s.minReadySeconds || undefined], ['revisionHistoryLimit', s.revisionHistoryLimit === undefined ? 10 : s.revisionHistoryLimit],
    ['paused', s.paused ? true : undefined], ['progressDeadlineSeconds', s.progressDeadlineSeconds === undefined ? 600 : s.progressDeadlineSeconds],
  ]);
}

// apps/v1 SetDefaults_StatefulSet.
function defaultStatefulSetSpec(s) {
  const us = Object.assign({}, s.updateStrategy || {});
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    const ru = Object.assign({}, us.rollingUpdate || {});
    us.rollingUpdate = ordered([['partition', ru.partition === undefined ? 0 : ru.partition], ['maxUnavailable', ru.maxUnavailable]]);
  }
  const pvc = Object.assign({ whenDeleted: 'Retain', whenScaled: 'Retain' }, s.persistentVolumeClaimRetentionPolicy || {});
  return ordered([
    ['replicas', s.replicas === undefined ? 1 : s.replicas], ['selector', defaultSelector(s.selector)], ['template', defaultTemplate(s.template)],
    ['volumeClaimTemplates', s.volumeClaimTemplates && s.volumeClaimTemplates.length ? s.volumeClaimTemplates : undefined],
    ['serviceName', s.serviceName || ''], ['podManagementPolicy', s.podManagementPolicy || 'OrderedReady'],
    ['updateStrategy', ordered([['type', us.type], ['rollingUpdate', us.rollingUpdate]])],
    ['revisionHistoryLimit', s.revisionHistoryLimit === undefined ? 10 : s.revisionHistoryLimit],
    ['minReadySeconds', s.minReadySeconds || undefined],
    ['persistentVolumeClaimRetentionPolicy', { whenDeleted: pvc.whenDeleted, whenScaled: pvc.whenScaled }],
    ['ordinals', s.ordinals],
  ]);
}

function condition(c) {
  return ordered([['type', c.type], ['status', c.status], ['lastUpdateTime', c.lastUpdateTime], ['lastTransitionTime', c.lastTransitionTime], ['reason', c.reason], ['message', c.message]]);
}

// DeploymentStatus: every field omitempty.
function deploymentStatus(s) {
  return ordered([
    ['observedGeneration', s.observedGeneration], ['replicas', s.replicas], ['updatedReplicas', s.updatedReplicas],
    ['readyReplicas', s.readyReplicas], ['availableReplicas', s.availableReplicas], ['unavailableReplicas', s.unavailableReplicas],
    ['conditions', (s.conditions || []).map(condition)], ['collisionCount', s.collisionCount],
  ], true);
}

// StatefulSetStatus: replicas and availableReplicas are always there.
function statefulSetStatus(s) {
  const o = ordered([
    ['observedGeneration', s.observedGeneration || undefined], ['replicas', s.replicas || 0], ['readyReplicas', s.readyReplicas || undefined],
    ['currentReplicas', s.currentReplicas || undefined], ['updatedReplicas', s.updatedReplicas || undefined],
    ['currentRevision', s.currentRevision || undefined], ['updateRevision', s.updateRevision || undefined],
    ['collisionCount', s.collisionCount], ['conditions', s.conditions && s.conditions.length ? s.conditions : undefined],
    ['availableReplicas', s.availableReplicas || 0],
  ]);
  return o;
}

// ReplicaSetStatus: replicas always there, the rest omitempty.
function replicaSetStatus(s) {
  return Object.assign({ replicas: s.replicas || 0 }, ordered([
    ['fullyLabeledReplicas', s.fullyLabeledReplicas], ['readyReplicas', s.readyReplicas], ['availableReplicas', s.availableReplicas],
    ['observedGeneration', s.observedGeneration],
  ], true));
}

function ownerRef(kind, obj) {
  return { apiVersion: 'apps/v1', kind, name: obj.metadata.name, uid: obj.metadata.uid, controller: true, blockOwnerDeletion: true };
}

// A seed entry -> a Deployment or StatefulSet object (no status yet).
function workloadFromSeed(w, ns, now) {
  const kind = w.kind || 'Deployment';
  const labels = sortKeys(w.labels || { app: w.name });
  const selector = w.selector || { matchLabels: labels };
  const container = ordered([['name', w.container || w.name], ['image', w.image || `ghcr.io/example/${w.name}:1.0.0`],
    ['ports', w.port ? [{ containerPort: w.port, protocol: 'TCP' }] : undefined]]);
  const template = { metadata: { labels: sortKeys(Object.assign({}, w.podLabels || {}, labels)), annotations: w.podAnnotations }, spec: { containers: [container] } };
  const meta = { name: w.name, namespace: ns, uid: crypto.randomUUID(), generation: 1, creationTimestamp: am.rfc3339(now), labels, annotations: w.annotations };
  if (kind === 'Deployment') {
    const strategy = { type: w.strategy || 'RollingUpdate' };
    if (strategy.type === 'RollingUpdate') strategy.rollingUpdate = { maxUnavailable: w.maxUnavailable === undefined ? '25%' : w.maxUnavailable, maxSurge: w.maxSurge === undefined ? '25%' : w.maxSurge };
    const spec = defaultDeploymentSpec({
      replicas: w.replicas === undefined ? 1 : w.replicas, selector, template, strategy, minReadySeconds: w.minReadySeconds,
      paused: !!w.paused, progressDeadlineSeconds: w.progressDeadlineSeconds, revisionHistoryLimit: w.revisionHistoryLimit,
    });
    return { kind: 'Deployment', apiVersion: 'apps/v1', metadata: objectMeta(meta), spec, status: {} };
  }
  if (kind === 'StatefulSet') {
    const updateStrategy = { type: w.updateStrategy || 'RollingUpdate' };
    if (updateStrategy.type === 'RollingUpdate') updateStrategy.rollingUpdate = { partition: w.partition || 0 };
    const spec = defaultStatefulSetSpec({
      replicas: w.replicas === undefined ? 1 : w.replicas, selector, template, serviceName: w.serviceName || w.name,
      podManagementPolicy: w.podManagementPolicy, updateStrategy, minReadySeconds: w.minReadySeconds, revisionHistoryLimit: w.revisionHistoryLimit,
    });
    return { kind: 'StatefulSet', apiVersion: 'apps/v1', metadata: objectMeta(meta), spec, status: { replicas: 0, availableReplicas: 0 } };
  }
  throw new Error(`seed: kind must be Deployment or StatefulSet, not ${JSON.stringify(kind)}`);
}

function scaleOf(obj) {
  const replicas = obj.spec.replicas;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: ordered([['name', obj.metadata.name], ['namespace', obj.metadata.namespace], ['uid', obj.metadata.uid],
      ['resourceVersion', obj.metadata.resourceVersion], ['creationTimestamp', obj.metadata.creationTimestamp]]),
    spec: replicas ? { replicas } : {}, // ScaleSpec.Replicas is omitempty: scaled to 0 is "spec": {}
    status: ordered([['replicas', (obj.status && obj.status.replicas) || 0], ['selector', am.selectorString(obj.spec.selector) || undefined]]),
  };
}

module.exports = {
  REVISION, DESIRED, MAX_REPLICAS, RESTARTED_AT, sortKeys, ordered, objectMeta, defaultTemplate, defaultSelector,
  defaultDeploymentSpec, defaultStatefulSetSpec, condition, deploymentStatus, statefulSetStatus, replicaSetStatus,
  ownerRef, workloadFromSeed, scaleOf,
};
