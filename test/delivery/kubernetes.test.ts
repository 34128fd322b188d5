import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvSchema, REQUIRED_IN_PRODUCTION, SECRET_VARIABLES } from '../../src/config/env.schema.js';
import {
  configProblems,
  type K8sObject,
  k8sObjects,
  loadFrom,
  ROOT,
  schemaNames,
  servedProbePaths,
  withRealSecrets,
} from './delivery.helpers.js';

const objects = k8sObjects();
const one = (kind: string, file?: string) => {
  const found = objects.filter((o) => o.kind === kind && (!file || o.file === file));
  expect(found, kind).toHaveLength(1);
  return found[0] as K8sObject;
};

const deployment = one('Deployment', 'deployment.yaml');
const workerDeployment = one('Deployment', 'worker-deployment.yaml');
const job = one('Job');
const service = one('Service');
const configMap = one('ConfigMap');
const secret = one('Secret', 'secret.example.yaml');
const pod = deployment.spec.template.spec;
const workerPod = workerDeployment.spec.template.spec;
const [api] = pod.containers;
const [worker] = workerPod.containers;
const [migrate] = job.spec.template.spec.containers;
const apiLabels: Record<string, string> = deployment.spec.template.metadata.labels;
const workerLabels: Record<string, string> = workerDeployment.spec.template.metadata.labels;

interface Probe {
  httpGet: { path: string; port: number | string };
}
interface ContainerPort {
  name?: string;
  containerPort: number;
}
interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

/** A probe or Service port, named or numbered, as the number of the container port it reaches. */
const containerPort = (container: { ports?: ContainerPort[] }, port: number | string) =>
  typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;

/** Whether a label selector (a Service's map, or matchLabels and matchExpressions) matches a set of labels. */
function selects(selector: Record<string, string> | LabelSelector, labels: Record<string, string>): boolean {
  const isLabelSelector = 'matchLabels' in selector || 'matchExpressions' in selector;
  const { matchLabels = {}, matchExpressions = [] } = isLabelSelector
    ? (selector as LabelSelector)
    : { matchLabels: selector as Record<string, string> };
  return (
    Object.entries(matchLabels).every(([k, v]) => labels[k] === v) &&
    matchExpressions.every(({ key, operator, values = [] }) => {
      const value = labels[key];
      if (operator === 'In') return value !== undefined && values.includes(value);
      if (operator === 'NotIn') return value === undefined || !values.includes(value);
      return operator === 'Exists' ? value !== undefined : value === undefined;
    })
  );
}

const PROBES = {
  startupProbe: '/health/startup',
  livenessProbe: '/health/liveness',
  readinessProbe: '/health/readiness',
};

const configMapData = configMap.data ?? {};
const secretData = secret.stringData ?? {};
/** The drain deadline on SIGTERM the pods read from the ConfigMap, in seconds. */
const drainSeconds = () =>
  Number(configMapData.SHUTDOWN_TIMEOUT_MS ?? EnvSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(undefined)) / 1000;

const backupCronJob = () => one('CronJob');

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  seccompProfile?: { type: string };
  capabilities?: { add?: string[]; drop?: string[] };
}
interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext;
  volumes?: Array<Record<string, unknown> & { name: string }>;
  containers: Array<{ name: string; securityContext?: SecurityContext; ports?: Array<{ hostPort?: number }> }>;
  initContainers?: PodSpec['containers'];
}

/** Every pod template of the manifests, with where it comes from. */
function podTemplates(): Array<[string, PodSpec]> {
  return objects.flatMap((o): Array<[string, PodSpec]> => {
    const where = `${o.kind} ${o.metadata?.name}`;
    if (o.kind === 'CronJob') return [[where, o.spec.jobTemplate.spec.template.spec]];
    if (['Deployment', 'Job', 'StatefulSet', 'DaemonSet'].includes(o.kind)) return [[where, o.spec.template.spec]];
    return [];
  });
}

/** Volume types the restricted profile allows. */
const RESTRICTED_VOLUMES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

/**
 * What the Pod Security "restricted" profile (kubernetes.io/docs/concepts/security/pod-security-standards, which
 * includes "baseline") refuses in a pod spec: the rules that concern what these manifests can set.
 */
function restrictedViolations(spec: PodSpec): string[] {
  const out: string[] = [];
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (spec[host]) out.push(host);
  for (const volume of spec.volumes ?? []) {
    const type = Object.keys(volume).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUMES.includes(type)) out.push(`volume ${volume.name} is ${type}`);
  }
  const pod = spec.securityContext ?? {};
  if (pod.runAsUser === 0) out.push('runAsUser 0 (pod)');
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) out.push(`${c.name}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) out.push(`${c.name}: allowPrivilegeEscalation is not false`);
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) out.push(`${c.name}: runAsNonRoot is not true`);
    if (sc.runAsUser === 0) out.push(`${c.name}: runAsUser 0`);
    const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      out.push(`${c.name}: seccompProfile is not RuntimeDefault or Localhost`);
    }
    if (!sc.capabilities?.drop?.includes('ALL')) out.push(`${c.name}: capabilities do not drop ALL`);
    for (const cap of sc.capabilities?.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE') out.push(`${c.name}: adds capability ${cap}`);
    }
    for (const port of c.ports ?? []) if (port.hostPort) out.push(`${c.name}: hostPort ${port.hostPort}`);
  }
  return out;
}

describe('Kubernetes manifests', () => {
  it('when applied with kustomize, lists every manifest but the Secret example, which would overwrite the real one', () => {
    const kustomization = one('Kustomization');
    const dir = path.join(ROOT, 'deploy/k8s');
    const manifests = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    for (const file of kustomization.resources ?? []) expect(existsSync(path.join(dir, file)), file).toBe(true);
    expect([...(kustomization.resources ?? [])].sort()).toEqual(
      manifests.filter((f) => f !== 'secret.example.yaml').sort(),
    );
  });

  it('when the kubelet probes a pod, each probe asks a health endpoint the app serves', () => {
    const served = servedProbePaths();
    for (const [probe, expected] of Object.entries(PROBES)) {
      const { httpGet } = api[probe] as Probe;
      expect(httpGet.path, probe).toBe(expected);
      expect(served, probe).toContain(httpGet.path);
    }
    // Startup may take as long as the migration Job: minutes, not seconds.
    const startup = api.startupProbe as { periodSeconds: number; failureThreshold: number };
    expect(startup.periodSeconds * startup.failureThreshold).toBeGreaterThanOrEqual(120);
  });

  it('when traffic and probes reach a pod, they use the port the service listens on by default', () => {
    const port = EnvSchema.shape.PORT.parse(undefined);
    expect(Number(configMapData.PORT ?? port)).toBe(port);
    expect(api.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
    for (const probe of Object.keys(PROBES)) {
      expect(containerPort(api, (api[probe] as Probe).httpGet.port), probe).toBe(port);
    }
    const [servicePort] = service.spec.ports;
    expect(containerPort(api, servicePort.targetPort)).toBe(port);
    expect(selects(service.spec.selector, apiLabels)).toBe(true);
    expect(selects(deployment.spec.selector, apiLabels)).toBe(true);
  });

  it('when a pod is stopped, the grace period covers the preStop sleep, the drain and the forced-exit margin', () => {
    const command: string[] = api.lifecycle.preStop.exec?.command ?? [];
    const preStop = api.lifecycle.preStop.sleep?.seconds ?? (command[0] === 'sleep' ? Number(command[1]) : Number.NaN);
    expect(preStop).toBeGreaterThanOrEqual(5);
    // src/main.ts exits by force 5 s after the drain deadline; SIGKILL must not come before that.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + drainSeconds() + 5);
  });

  it('when the worker runs, it is the same image running the compiled src/worker.ts, with the same configuration', () => {
    expect(worker.image).toBe(api.image);
    // `args` keeps the image's entrypoint (tini) as PID 1, which passes SIGTERM on.
    expect(worker.command).toBeUndefined();
    expect(worker.args).toEqual(['node', 'dist/worker.js']);
    expect(existsSync(path.join(ROOT, 'src/worker.ts'))).toBe(true);
    expect(worker.envFrom).toEqual(api.envFrom);
    expect(selects(workerDeployment.spec.selector, workerLabels)).toBe(true);
    // Its own pods: the API's selectors (Deployment, Service, PDB, HPA's target) never pick a worker.
    expect(selects(deployment.spec.selector, workerLabels)).toBe(false);
    expect(selects(workerDeployment.spec.selector, apiLabels)).toBe(false);
  });

  it('when the kubelet probes a worker, each probe asks a health endpoint the worker serves on WORKER_PORT', () => {
    const port = EnvSchema.shape.WORKER_PORT.parse(undefined);
    expect(Number(configMapData.WORKER_PORT ?? port)).toBe(port);
    expect(worker.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
    const served = servedProbePaths();
    for (const [probe, expected] of Object.entries(PROBES)) {
      const { httpGet } = worker[probe] as Probe;
      expect(httpGet.path, probe).toBe(expected);
      expect(served, probe).toContain(httpGet.path);
      expect(containerPort(worker, httpGet.port), probe).toBe(port);
    }
  });

  it('when the worker takes no traffic, no Service selects its pods', () => {
    for (const s of objects.filter((o) => o.kind === 'Service')) {
      expect(selects(s.spec.selector, workerLabels), s.metadata.name).toBe(false);
    }
  });

  it('when a worker is stopped, the grace period covers the drain of its running jobs and the forced-exit margin', () => {
    expect(worker.lifecycle?.preStop).toBeUndefined(); // no endpoint to leave first
    // src/worker-process.ts exits by force 5 s after the drain deadline; SIGKILL must not come before that.
    expect(workerPod.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds() + 5);
  });

  it('when scheduled, the api, the worker and the migration run unprivileged, read-only, with no capability and bounded resources', () => {
    for (const [name, spec, container] of [
      ['api', pod, api],
      ['worker', workerPod, worker],
      ['migrate', job.spec.template.spec, migrate],
    ]) {
      expect(spec.securityContext, name).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container.securityContext, name).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(spec.automountServiceAccountToken, name).toBe(false);
      for (const kind of ['requests', 'limits']) {
        expect(container.resources?.[kind]?.cpu, `${name} ${kind}`).toBeDefined();
        expect(container.resources?.[kind]?.memory, `${name} ${kind}`).toBeDefined();
      }
      // No writable volume: the service writes nothing (scripts/ci/runtime-layout-check.sh verifies it).
      expect(container.volumeMounts, name).toBeUndefined();
    }
  });

  it('when configured, reads only variables of the config schema from the ConfigMap and the Secret', () => {
    const names = schemaNames();
    for (const key of [...Object.keys(configMapData), ...Object.keys(secretData)]) expect(names, key).toContain(key);
    for (const container of [api, worker, migrate]) {
      for (const env of container.env ?? []) expect(names, env.name).toContain(env.name);
      expect(container.envFrom).toEqual([
        { configMapRef: { name: configMap.metadata.name } },
        { secretRef: { name: secret.metadata.name } },
      ]);
    }
    for (const name of Object.keys(REQUIRED_IN_PRODUCTION)) {
      expect({ ...configMapData, ...secretData }[name], name).toBeTruthy();
    }
    // Secrets belong in the Secret: nothing in the ConfigMap is a secret or a URL with credentials.
    for (const key of [...SECRET_VARIABLES, 'DATABASE_URL', 'REDIS_URL', 'SMTP_URL']) {
      expect(Object.keys(configMapData), key).not.toContain(key);
    }
  });

  it('when the Secret example is applied unedited, production refuses it; with real secrets the configuration loads', () => {
    const env = { ...configMapData, ...secretData };
    expect(env.NODE_ENV).toBe('production');
    expect(configProblems(env)).toContainEqual(expect.stringMatching(/^HEALTH_TOKEN: is an example placeholder/));
    const config = loadFrom(withRealSecrets(new Map(Object.entries(env))));
    expect(config.production).toBe(true);
    expect(config.http.port).toBe(EnvSchema.shape.PORT.parse(undefined));
  });

  it('when a release is rolled out, the migration Job runs prisma migrate deploy from the same image', () => {
    expect(migrate.image).toBe(api.image);
    expect([...(migrate.command ?? []), ...(migrate.args ?? [])].join(' ')).toMatch(/\bprisma migrate deploy$/);
    // `args` keeps the image's entrypoint (tini) as PID 1.
    expect(migrate.command).toBeUndefined();
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(selects(deployment.spec.selector, job.spec.template.metadata.labels)).toBe(false);
  });

  it('when work is scheduled, the worker keeps the schedules: the only CronJob is the database backup', () => {
    const cronJobs = objects.filter((o) => o.kind === 'CronJob');
    expect(cronJobs.map((o) => o.file)).toEqual(['backup-cronjob.yaml']);
    const [backup] = backupCronJob().spec.jobTemplate.spec.template.spec.containers;
    expect(backup.args.slice(0, 2)).toEqual(['node', 'scripts/db-backup.mjs']);
  });

  it('when the database is backed up, the CronJob runs the backup image of the same release into its own volume, keeping a bounded number of dumps', () => {
    const cronJob = backupCronJob();
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
    const podSpec = cronJob.spec.jobTemplate.spec.template.spec;
    const [backup] = podSpec.containers;
    // The API's registry path with -backup: `kustomize edit set image` and the docs' build commands name both alike.
    expect(backup.image.split(':')[0]).toBe(`${api.image.split(':')[0]}-backup`);
    const images = (one('Kustomization') as K8sObject & { images: Array<{ name: string; newTag: string }> }).images;
    const tagOf = (image: string) => images.find((i) => i.name === image.split(':')[0])?.newTag;
    expect(tagOf(backup.image)).toBeDefined();
    expect(tagOf(backup.image)).toBe(tagOf(api.image));
    expect(existsSync(path.join(ROOT, 'Dockerfile.backup'))).toBe(true);
    expect(existsSync(path.join(ROOT, backup.args[1]))).toBe(true);
    // Retention: a whole number of dumps, so the volume cannot fill up.
    const keepAt = backup.args.indexOf('--keep');
    expect(Number(backup.args[keepAt + 1])).toBeGreaterThanOrEqual(7);
    // Dumps go to the claimed volume; the database URL comes from the service's Secret.
    const dir = backup.env.find((e: { name: string }) => e.name === 'BACKUP_DIR')?.value;
    const mount = backup.volumeMounts.find((m: { mountPath: string }) => m.mountPath === dir);
    const volume = podSpec.volumes.find((v: { name: string }) => v.name === mount?.name);
    const claim = one('PersistentVolumeClaim');
    expect(volume?.persistentVolumeClaim?.claimName).toBe(claim.metadata.name);
    expect(backup.env.find((e: { name: string }) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: secret.metadata.name,
      key: 'DATABASE_URL',
    });
  });

  it('when the namespace enforces Pod Security "restricted", every pod template of the manifests is admitted', () => {
    const namespace = one('Namespace');
    expect(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const templates = podTemplates();
    expect(templates.map(([where]) => where).sort()).toEqual(
      [
        'CronJob mingus-db-backup',
        'Deployment mingus-api',
        'Deployment mingus-api-worker',
        'Job mingus-api-migrate',
      ].sort(),
    );
    for (const [where, podSpec] of templates) expect(restrictedViolations(podSpec), where).toEqual([]);
  });

  it('when a pod template breaks the restricted profile, the check names each violation (it can fail)', () => {
    const [, podSpec] = podTemplates().find(([where]) => where.startsWith('CronJob')) as [string, PodSpec];
    const broken: PodSpec = structuredClone(podSpec);
    broken.securityContext = { runAsUser: 0 };
    broken.hostNetwork = true;
    broken.volumes = [...(broken.volumes ?? []), { name: 'host', hostPath: { path: '/' } }];
    const [container] = broken.containers;
    if (!container) throw new Error('no container');
    container.securityContext = { capabilities: { add: ['SYS_ADMIN'] } };
    expect(restrictedViolations(broken).sort()).toEqual(
      [
        'hostNetwork',
        'volume host is hostPath',
        'runAsUser 0 (pod)',
        'backup: allowPrivilegeEscalation is not false',
        'backup: runAsNonRoot is not true',
        'backup: seccompProfile is not RuntimeDefault or Localhost',
        'backup: capabilities do not drop ALL',
        'backup: adds capability SYS_ADMIN',
      ].sort(),
    );
  });

  it('when load changes or nodes are drained, the HPA and the PodDisruptionBudget keep at least one pod serving', () => {
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(deployment.spec.replicas).toBeUndefined();
    const pdb = one('PodDisruptionBudget', 'pdb.yaml');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(selects(pdb.spec.selector, apiLabels)).toBe(true);
    expect(selects(pdb.spec.selector, workerLabels)).toBe(false);
    expect(pdb.spec.maxUnavailable ?? hpa.spec.minReplicas - pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it('when nodes are drained, the worker PodDisruptionBudget keeps at least one worker running', () => {
    const replicas = workerDeployment.spec.replicas as number;
    expect(replicas).toBeGreaterThanOrEqual(2);
    const pdb = one('PodDisruptionBudget', 'worker-pdb.yaml');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(selects(pdb.spec.selector, workerLabels)).toBe(true);
    expect(selects(pdb.spec.selector, apiLabels)).toBe(false);
    expect(pdb.spec.maxUnavailable ?? replicas - pdb.spec.minAvailable).toBeLessThan(replicas);
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.spec.scaleTargetRef.name)).toEqual([
      deployment.metadata.name,
    ]);
  });

  it('when the network policies apply, each pod is selected by one, which admits only its callers and lets out only what it needs', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const policyOf = (labels: Record<string, string>) => {
      const selecting = policies.filter((p) => selects(p.spec.podSelector, labels));
      // Policies add up: a second one selecting the same pod would widen what it allows.
      expect(selecting.map((p) => p.metadata.name)).toHaveLength(1);
      return selecting[0] as K8sObject;
    };
    const apiPolicy = policyOf(apiLabels);
    expect(policyOf(job.spec.template.metadata.labels)).toBe(apiPolicy);
    // A pod of the service with no component of its own (a backup CronJob) gets the API's rules, not none.
    expect(policyOf({ 'app.kubernetes.io/name': 'mingus-api' })).toBe(apiPolicy);
    const workerPolicy = policyOf(workerLabels);
    expect(workerPolicy).not.toBe(apiPolicy);

    type Rule = { from?: unknown[]; ports: Array<{ protocol: string; port: number }> };
    const admitted = (policy: K8sObject) =>
      (policy.spec.ingress as Rule[]).map((rule) => {
        expect(rule.from?.length).toBeGreaterThan(0);
        return { from: JSON.stringify(rule.from), ports: rule.ports };
      });
    const egress = (policy: K8sObject) =>
      (policy.spec.egress as Rule[]).flatMap((r) => r.ports.map((p) => `${p.protocol}/${p.port}`)).sort();
    for (const policy of [apiPolicy, workerPolicy]) expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);

    const port = EnvSchema.shape.PORT.parse(undefined);
    const apiIngress = admitted(apiPolicy);
    for (const rule of apiIngress) expect(rule.ports).toEqual([{ protocol: 'TCP', port }]);
    expect(apiIngress.map((r) => r.from).join()).toContain('ingress-nginx');
    expect(egress(apiPolicy)).toEqual(['TCP/443', 'TCP/53', 'TCP/5432', 'TCP/6379', 'UDP/53']);

    // The worker: Prometheus alone, on WORKER_PORT; out, what the API reaches plus SMTP (submission and TLS).
    const workerPort = EnvSchema.shape.WORKER_PORT.parse(undefined);
    const workerIngress = admitted(workerPolicy);
    expect(workerIngress.map((r) => r.ports)).toEqual([[{ protocol: 'TCP', port: workerPort }]]);
    expect(workerIngress[0]?.from).toContain('monitoring');
    expect(workerIngress[0]?.from).not.toContain('ingress-nginx');
    expect(egress(workerPolicy)).toEqual(['TCP/443', 'TCP/465', 'TCP/53', 'TCP/5432', 'TCP/587', 'TCP/6379', 'UDP/53']);

    // HTTPS and SMTP go to public addresses only: a Web Push endpoint a client registered, or a compromised pod, never
    // reaches a private service or the cloud metadata address through them (docs/security.md, API7).
    const privateRanges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'];
    for (const policy of [apiPolicy, workerPolicy]) {
      for (const rule of policy.spec.egress as Array<
        Rule & { to: Array<{ ipBlock?: { cidr: string; except?: string[] } }> }
      >) {
        if (!rule.ports.some((p) => [443, 465, 587].includes(p.port))) continue;
        for (const peer of rule.to) {
          expect(peer.ipBlock?.cidr, policy.metadata.name).toBe('0.0.0.0/0');
          expect(peer.ipBlock?.except, policy.metadata.name).toEqual(expect.arrayContaining(privateRanges));
        }
      }
    }
  });

  it('when exposed, TLS ends at the ingress, which routes to the Service', () => {
    const ingress = one('Ingress');
    expect(ingress.spec.tls?.[0]?.secretName).toBeTruthy();
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe(service.metadata.name);
    expect(backend.port.name ?? backend.port.number).toBe(service.spec.ports[0].name ?? service.spec.ports[0].port);
  });
});
