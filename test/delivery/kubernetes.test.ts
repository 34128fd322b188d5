import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvSchema, REQUIRED_IN_PRODUCTION } from '../../src/config/env.schema.js';
import { probeRoutes } from '../../src/modules/health/health.routes.js';
import { createHealthService } from '../../src/modules/health/health.service.js';
import { createLifecycle } from '../../src/platform/lifecycle.js';
import {
  configProblems,
  type K8sObject,
  k8sObjects,
  loadFrom,
  ROOT,
  schemaNames,
  withRealSecrets,
} from './delivery.helpers.js';

const objects = k8sObjects();
const one = (kind: string, file?: string) => {
  const found = objects.filter((o) => o.kind === kind && (!file || o.file === file));
  expect(found, kind).toHaveLength(1);
  return found[0] as K8sObject;
};

const deployment = one('Deployment');
const job = one('Job');
const service = one('Service');
const configMap = one('ConfigMap');
const secret = one('Secret', 'secret.example.yaml');
const pod = deployment.spec.template.spec;
const [api] = pod.containers;
const [migrate] = job.spec.template.spec.containers;

interface Probe {
  httpGet: { path: string; port: number | string };
}
interface ContainerPort {
  name?: string;
  containerPort: number;
}

/** A probe or Service port, named or numbered, as the container port number it reaches. */
const containerPort = (port: number | string) =>
  typeof port === 'number' ? port : (api.ports as ContainerPort[]).find((p) => p.name === port)?.containerPort;

/** Whether a label selector matches a set of labels. */
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const configMapData = configMap.data ?? {};
const secretData = secret.stringData ?? {};

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
    // The probes' own route table: the routes app.ts mounts, with their full paths.
    const health = createHealthService({
      lifecycle: createLifecycle(),
      version: 'test',
      checks: { postgres: async () => {} },
      poolStats: () => ({ max: 1, total: 0, idle: 0, waiting: 0 }),
    });
    const served = probeRoutes(health)
      .routes.filter((r) => r.method === 'get')
      .map((r) => r.path);
    health.close();
    const probes = {
      startupProbe: '/health/startup',
      livenessProbe: '/health/liveness',
      readinessProbe: '/health/readiness',
    };
    for (const [probe, expected] of Object.entries(probes)) {
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
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(containerPort((api[probe] as Probe).httpGet.port), probe).toBe(port);
    }
    const [servicePort] = service.spec.ports;
    expect(containerPort(servicePort.targetPort)).toBe(port);
    expect(selects(service.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
    expect(selects(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
  });

  it('when a pod is stopped, the grace period covers the preStop sleep, the drain and the forced-exit margin', () => {
    const command: string[] = api.lifecycle.preStop.exec?.command ?? [];
    const preStop = api.lifecycle.preStop.sleep?.seconds ?? (command[0] === 'sleep' ? Number(command[1]) : Number.NaN);
    expect(preStop).toBeGreaterThanOrEqual(5);
    const drainSeconds =
      Number(configMapData.SHUTDOWN_TIMEOUT_MS ?? EnvSchema.shape.SHUTDOWN_TIMEOUT_MS.parse(undefined)) / 1000;
    // src/main.ts exits by force 5 s after the drain deadline; SIGKILL must not come before that.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStop + drainSeconds + 5);
  });

  it('when scheduled, the api and the migration run unprivileged, read-only, with no capability and bounded resources', () => {
    for (const [name, spec, container] of [
      ['api', pod, api],
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
    for (const container of [api, migrate]) {
      for (const env of container.env ?? []) expect(names, env.name).toContain(env.name);
      expect(container.envFrom).toEqual([
        { configMapRef: { name: configMap.metadata.name } },
        { secretRef: { name: secret.metadata.name } },
      ]);
    }
    for (const name of Object.keys(REQUIRED_IN_PRODUCTION)) {
      expect({ ...configMapData, ...secretData }[name], name).toBeTruthy();
    }
    // Secrets belong in the Secret: nothing in the ConfigMap is a secret.
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'HEALTH_TOKEN', 'METRICS_TOKEN']) {
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
    expect(selects(deployment.spec.selector.matchLabels, job.spec.template.metadata.labels)).toBe(false);
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
    const pdb = one('PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(selects(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
    expect(pdb.spec.maxUnavailable ?? hpa.spec.minReplicas - pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it('when the network policy applies, it admits the ingress controller on the app port and lets out only what the app needs', () => {
    const policy = one('NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    for (const labels of [deployment.spec.template.metadata.labels, job.spec.template.metadata.labels]) {
      expect(selects(policy.spec.podSelector.matchLabels, labels)).toBe(true);
    }
    const port = EnvSchema.shape.PORT.parse(undefined);
    const ingressFrom = (policy.spec.ingress as Array<{ from: unknown[]; ports: Array<{ port: number }> }>).map(
      (rule) => {
        expect(rule.from.length).toBeGreaterThan(0);
        expect(rule.ports).toEqual([{ protocol: 'TCP', port }]);
        return JSON.stringify(rule.from);
      },
    );
    expect(ingressFrom.join()).toContain('ingress-nginx');
    const egress = (policy.spec.egress as Array<{ ports: Array<{ protocol: string; port: number }> }>).flatMap((r) =>
      r.ports.map((p) => `${p.protocol}/${p.port}`),
    );
    expect(egress.sort()).toEqual(['TCP/443', 'TCP/53', 'TCP/5432', 'TCP/6379', 'UDP/53']);
  });

  it('when exposed, TLS ends at the ingress, which routes to the Service', () => {
    const ingress = one('Ingress');
    expect(ingress.spec.tls?.[0]?.secretName).toBeTruthy();
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe(service.metadata.name);
    expect(backend.port.name ?? backend.port.number).toBe(service.spec.ports[0].name ?? service.spec.ports[0].port);
  });
});
