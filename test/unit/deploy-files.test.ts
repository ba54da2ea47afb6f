/**
 * The Dockerfile, the image's configuration and the Kubernetes manifest against the real CLI parser, the real
 * configuration loader and each other (issue 8): a renamed flag or key, or two numbers that drifted apart, fail here.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseArgs } from '../../src/cli/args.js';
import { loadConfig } from '../../src/config/load.js';
import { isLoopbackHost } from '../../src/policy/address.js';
import { REPO_ROOT, dig, digArray, digNumber, digString, digStrings, readDockerfile } from '../helpers/deploy-files.js';

const docker = readDockerfile();
const imageConfigFile = path.join(REPO_ROOT, 'deploy', 'hopwise.yaml');
const imageConfig = loadConfig({ file: imageConfigFile });

const manifest: unknown[] = parseAllDocuments(readFileSync(path.join(REPO_ROOT, 'deploy', 'kubernetes.yaml'), 'utf8')).map(
  (d) => d.toJS() as unknown,
);
const byKind = (kind: string): unknown => {
  const doc = manifest.find((d) => dig(d, 'kind') === kind);
  if (doc === undefined) throw new Error(`no ${kind} in deploy/kubernetes.yaml`);
  return doc;
};
const deployment = byKind('Deployment');
const pod = dig(deployment, 'spec.template');
const container = dig(pod, 'spec.containers.0');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hopwise-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Dockerfile', () => {
  it('is multi-stage: a build stage, then a runtime stage that copies from it', () => {
    expect(docker.stages.length).toBeGreaterThanOrEqual(2);
    expect(docker.stages[0]?.name).toBe('build');
  });

  it('runs as a non-root user', () => {
    expect(docker.user).toBeDefined();
    expect(['root', '0']).not.toContain(docker.user);
  });

  it('copies only files that exist in the repository', () => {
    expect(docker.contextCopies.length).toBeGreaterThan(0);
    for (const source of docker.contextCopies) expect(existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
  });

  it('ENTRYPOINT + CMD are the real CLI with flags it accepts and the image configuration', () => {
    expect(docker.entrypoint).toEqual(['node', 'bin/hopwise.js']);
    const parsed = parseArgs(docker.cmd, {});
    expect(parsed).toMatchObject({ command: 'run', configFile: 'deploy/hopwise.yaml' });
  });

  it('exposes the proxy and admin ports of that configuration', () => {
    expect([...docker.expose].sort()).toEqual([imageConfig.listen.port, imageConfig.admin.port].sort());
  });

  it('health-checks /healthz on the admin port', () => {
    expect(docker.healthcheck[0]).toBe('node');
    expect(docker.healthcheck.join(' ')).toContain(`http://127.0.0.1:${imageConfig.admin.port}/healthz`);
  });
});

describe('deploy/hopwise.yaml (the image configuration)', () => {
  it('binds every interface with an explicit, non-loopback access rule (SPEC §10.3)', () => {
    expect(imageConfig.listen.host).toBe('0.0.0.0');
    expect(imageConfig.access.clients.some((c) => !isLoopbackHost(c.split('/')[0] ?? ''))).toBe(true);
    expect(imageConfig.admin.enabled).toBe(true);
  });
});

describe('deploy/kubernetes.yaml', () => {
  const configMap = byKind('ConfigMap');
  const file = path.join(tmp, 'hopwise.yaml');
  writeFileSync(file, digString(configMap, ['data', 'hopwise.yaml']));
  const config = loadConfig({ file });
  const port = (name: string): unknown => digArray(container, 'ports').find((p) => dig(p, 'name') === name);

  it('the ConfigMap holds a valid configuration, mounted where the container args point', () => {
    const parsed = parseArgs(digStrings(container, 'args'), {});
    expect(parsed.command).toBe('run');
    expect(parsed).toMatchObject({ configFile: `${digString(container, 'volumeMounts.0.mountPath')}/hopwise.yaml` });
    const volume = digArray(pod, 'spec.volumes').find((v) => dig(v, 'name') === digString(container, 'volumeMounts.0.name'));
    expect(digString(volume, 'configMap.name')).toBe(digString(configMap, 'metadata.name'));
  });

  it('container ports are the configured proxy and admin ports', () => {
    expect(digNumber(port('proxy'), 'containerPort')).toBe(config.listen.port);
    expect(digNumber(port('admin'), 'containerPort')).toBe(config.admin.port);
    expect(config.admin.host).toBe('0.0.0.0');
  });

  it.each(['readinessProbe', 'livenessProbe'])('%s asks /healthz on the admin port', (probe) => {
    expect(dig(container, `${probe}.httpGet`)).toMatchObject({ path: '/healthz', port: 'admin' });
  });

  it('Prometheus annotations name the admin port and /metrics', () => {
    expect(dig(pod, 'metadata.annotations')).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
    expect(Number(digString(pod, ['metadata', 'annotations', 'prometheus.io/port']))).toBe(config.admin.port);
  });

  it('the grace period covers the preStop sleep plus shutdown.drainTimeout', () => {
    const command = digStrings(container, 'lifecycle.preStop.exec.command');
    expect(command[0]).toBe('sleep');
    const preStop = Number(command[1]);
    const grace = digNumber(pod, 'spec.terminationGracePeriodSeconds');
    expect(grace).toBeGreaterThanOrEqual(preStop + config.shutdown.drainTimeout / 1000 + 1);
    expect(config.shutdown.drainTimeout).toBe(imageConfig.shutdown.drainTimeout);
  });

  it('runs as the image user, not root', () => {
    expect(dig(pod, 'spec.securityContext.runAsNonRoot')).toBe(true);
    expect(digNumber(pod, 'spec.securityContext.runAsUser')).toBeGreaterThan(0);
  });

  it('the Service selects the pods and targets the proxy port', () => {
    const service = byKind('Service');
    expect(dig(service, 'spec.selector')).toEqual(dig(pod, 'metadata.labels'));
    expect(dig(deployment, 'spec.selector.matchLabels')).toEqual(dig(pod, 'metadata.labels'));
    expect(dig(service, 'spec.ports.0')).toMatchObject({ targetPort: 'proxy', port: config.listen.port, protocol: 'TCP' });
  });
});
