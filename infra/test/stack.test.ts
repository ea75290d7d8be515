// The CDK app, synthesized as `cdk synth` does it (cdk.json's context and
// feature flags, cdk-nag's AwsSolutions checks), with no AWS account and no
// Docker. Every property the deployment relies on is asserted on the template.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { App, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { buildApp, BuildOptions } from '../lib/app';
import { CONTAINER_HEALTH_CHECK, HTTP_PORT, RTSP_PORTS, RtspTestServerStack } from '../lib/rtsp-test-server-stack';

const INFRA = path.resolve(__dirname, '..', '..');
const REPO = path.resolve(INFRA, '..');
const CDK_JSON = JSON.parse(fs.readFileSync(path.join(INFRA, 'cdk.json'), 'utf8'));
const outdirs: string[] = [];
after(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

interface Synth {
  app: App;
  stack: RtspTestServerStack;
  template: Template;
  outdir: string;
}

function synth(context: Record<string, unknown> = {}, options?: BuildOptions): Synth {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'rts-cdk-'));
  outdirs.push(outdir);
  const { app, stack } = buildApp({ outdir, context: { ...CDK_JSON.context, ...context } }, options);
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template);
  return { app, stack, template, outdir };
}

function only<T>(obj: Record<string, T>): [string, T] {
  const entries = Object.entries(obj);
  assert.equal(entries.length, 1, `want exactly one, got ${entries.map(([k]) => k).join(', ')}`);
  return entries[0];
}

const def = synth();
const prod = synth({ profile: 'production' });

function container(t: Template): any {
  const [, td] = only(t.findResources('AWS::ECS::TaskDefinition'));
  assert.equal(td.Properties.ContainerDefinitions.length, 1);
  return td.Properties.ContainerDefinitions[0];
}

function nlbLogicalId(t: Template): string {
  return only(t.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'))[0];
}

function sgLogicalId(t: Template, descriptionStart: string): string {
  const found = Object.entries(t.findResources('AWS::EC2::SecurityGroup')).filter(([, r]: [string, any]) =>
    String(r.Properties.GroupDescription).startsWith(descriptionStart),
  );
  assert.equal(found.length, 1, `one security group "${descriptionStart}..."`);
  return found[0][0];
}

describe('synth', () => {
  test('synthesizes with no AWS account and no Docker, both profiles, cdk-nag AwsSolutions passing', () => {
    for (const s of [def, prod]) {
      assert.ok(Token.isUnresolved(s.stack.account), 'no account was needed');
      const report = JSON.parse(fs.readFileSync(path.join(s.outdir, 'validation-report.json'), 'utf8'));
      const violations = report.pluginReports.flatMap((r: any) => r.violations);
      assert.deepEqual(violations, [], 'no unacknowledged cdk-nag finding');
    }
  });

  test('no warnings and no errors in the synthesized stacks', () => {
    for (const s of [def, prod]) {
      Annotations.fromStack(s.stack).hasNoWarning('*', Match.anyValue());
      Annotations.fromStack(s.stack).hasNoError('*', Match.anyValue());
    }
  });

  test('the stack is environment-agnostic unless a VPC is looked up', () => {
    assert.equal(def.stack.environment, 'aws://unknown-account/unknown-region');
  });
});

describe('network', () => {
  test('a new VPC: 2 AZs, public and private subnets, one NAT gateway, a flow log', () => {
    def.template.resourceCountIs('AWS::EC2::VPC', 1);
    def.template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
    def.template.resourceCountIs('AWS::EC2::Subnet', 4);
    def.template.resourceCountIs('AWS::EC2::NatGateway', 1);
    def.template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL' });
  });

  test('an existing VPC by lookup when vpcId is given: no VPC created, its subnets used', () => {
    const account = '123456789012';
    const region = 'eu-west-1';
    const vpcId = 'vpc-0123456789abcdef0';
    const subnet = (id: string, az: string, cidr: string) => ({
      subnetId: id,
      cidr,
      availabilityZone: az,
      routeTableId: `rtb-${id.slice(7)}`,
    });
    // What `cdk synth` stores in cdk.context.json after a real lookup.
    const lookup = {
      [`vpc-provider:account=${account}:filter.vpc-id=${vpcId}:region=${region}:returnAsymmetricSubnets=true`]: {
        vpcId,
        vpcCidrBlock: '172.31.0.0/16',
        ownerAccountId: account,
        availabilityZones: [],
        subnetGroups: [
          {
            name: 'Public',
            type: 'Public',
            subnets: [subnet('subnet-0000000000000000a', 'eu-west-1a', '172.31.0.0/20'), subnet('subnet-0000000000000000b', 'eu-west-1b', '172.31.16.0/20')],
          },
          {
            name: 'Private',
            type: 'Private',
            subnets: [subnet('subnet-0000000000000000c', 'eu-west-1a', '172.31.32.0/20'), subnet('subnet-0000000000000000d', 'eu-west-1b', '172.31.48.0/20')],
          },
        ],
      },
    };
    process.env.CDK_DEFAULT_ACCOUNT = account;
    process.env.CDK_DEFAULT_REGION = region;
    try {
      const s = synth({ vpcId, ...lookup });
      s.template.resourceCountIs('AWS::EC2::VPC', 0);
      s.template.resourceCountIs('AWS::EC2::FlowLog', 0);
      assert.equal(s.stack.environment, `aws://${account}/${region}`);
      s.template.hasResourceProperties('AWS::ECS::Service', {
        NetworkConfiguration: {
          AwsvpcConfiguration: { Subnets: ['subnet-0000000000000000c', 'subnet-0000000000000000d'] },
        },
      });
      s.template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        VpcId: vpcId,
        SecurityGroupIngress: Match.arrayWith([Match.objectLike({ CidrIp: '172.31.0.0/16', FromPort: 8554 })]),
      });
    } finally {
      delete process.env.CDK_DEFAULT_ACCOUNT;
      delete process.env.CDK_DEFAULT_REGION;
    }
  });
});

describe('ECS cluster and task definition', () => {
  test('cluster with Container Insights and ECS Exec sessions logged to their own group', () => {
    def.template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      Configuration: {
        ExecuteCommandConfiguration: {
          Logging: 'OVERRIDE',
          LogConfiguration: { CloudWatchLogGroupName: Match.anyValue() },
        },
      },
    });
  });

  test('Fargate task, x86_64 Linux', () => {
    def.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      Cpu: '256',
      Memory: '512',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
  });

  test('image from the repository Dockerfile (fromAsset), platform linux/amd64, context filtered by .dockerignore', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(def.outdir, `${def.stack.artifactId}.assets.json`), 'utf8'));
    const [hash, image] = only(manifest.dockerImages) as [string, any];
    assert.equal(image.source.dockerFile, 'Dockerfile');
    assert.equal(image.source.platform, 'linux/amd64');
    const staged = path.join(def.outdir, image.source.directory);
    assert.deepEqual(
      fs.readdirSync(staged).sort(),
      ['.dockerignore', 'Dockerfile', 'bench', 'meson.build', 'meson_options.txt', 'src', 'tests', 'tools'],
      'the build context is the sources only (no build trees, no infra/node_modules, no .git)',
    );
    assert.ok(!fs.existsSync(path.join(staged, 'tests', 'container')));
    assert.ok(!fs.existsSync(path.join(staged, 'bench', 'results')));
    assert.equal(
      fs.readFileSync(path.join(staged, 'Dockerfile'), 'utf8'),
      fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'),
    );
    const c = container(def.template);
    assert.match(JSON.stringify(c.Image), new RegExp(`:${hash}`));
  });

  test('awslogs with an explicit non-blocking mode, a buffer and a retention', () => {
    const c = container(def.template);
    assert.equal(c.LogConfiguration.LogDriver, 'awslogs');
    assert.equal(c.LogConfiguration.Options.mode, 'non-blocking');
    assert.equal(c.LogConfiguration.Options['max-buffer-size'], `${25 * 1024 * 1024}b`);
    const groupRef = c.LogConfiguration.Options['awslogs-group'].Ref;
    const groups = def.template.findResources('AWS::Logs::LogGroup');
    assert.equal(groups[groupRef].Properties.RetentionInDays, 30);
  });

  test('container health check: rtsp-health-check on /health (3 of 4 answer RTSP) in exec form, 30 s / 10 s / 5 retries / 90 s start', () => {
    const c = container(def.template);
    assert.deepEqual(c.HealthCheck, {
      Command: ['CMD', 'rtsp-health-check', '--url', `http://127.0.0.1:${HTTP_PORT}/health`, '--timeout', '5'],
      Interval: 30,
      Timeout: 10,
      Retries: 5,
      StartPeriod: 90,
    });
    assert.notEqual(c.HealthCheck.Command[0], 'CMD-SHELL', 'no shell needed');
    // Within ECS's limits, and the check's own timeout inside the ECS timeout.
    assert.ok(CONTAINER_HEALTH_CHECK.timeoutSeconds > 5);
    // The same program and endpoint as the image's own HEALTHCHECK.
    const dockerfile = fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
    const imageCheck = JSON.parse(/HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile)![1]);
    assert.deepEqual(imageCheck, c.HealthCheck.Command.slice(1));
  });

  test('init process, stop timeout, the four RTSP ports and 8080, public host = the NLB, TCP only', () => {
    const c = container(def.template);
    assert.equal(c.LinuxParameters.InitProcessEnabled, true);
    assert.equal(c.StopTimeout, 10);
    assert.deepEqual(
      c.PortMappings.map((m: any) => [m.ContainerPort, m.Protocol]),
      [...RTSP_PORTS, HTTP_PORT].map((p) => [p, 'tcp']),
    );
    assert.deepEqual(c.Environment, [
      { Name: 'RTSP_TEST_SERVER_PUBLIC_HOST', Value: { 'Fn::GetAtt': [nlbLogicalId(def.template), 'DNSName'] } },
      // RTP over UDP never gets through the NLB: refused (461), not lost.
      { Name: 'RTSP_TEST_SERVER_TRANSPORTS', Value: 'tcp' },
    ]);
    assert.equal(c.Essential, true);
  });
});

describe('Fargate service', () => {
  test('test profile: 1 task, minHealthyPercent 0, maxHealthyPercent 200, circuit breaker with rollback, ECS Exec', () => {
    def.template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      PlatformVersion: 'LATEST',
      DesiredCount: 1,
      EnableExecuteCommand: true,
      HealthCheckGracePeriodSeconds: 60,
      DeploymentConfiguration: {
        MinimumHealthyPercent: 0,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      },
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
    });
  });

  test('production profile: 2 tasks, minHealthyPercent 100, maxHealthyPercent 200', () => {
    prod.template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 2,
      DeploymentConfiguration: {
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      },
    });
  });

  test('context overrides a single value of a profile', () => {
    const s = synth({ profile: 'production', desiredCount: '3' });
    s.template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 3,
      DeploymentConfiguration: { MinimumHealthyPercent: 100 },
    });
  });

  test('task size from context, checked against what Fargate runs', () => {
    synth({ cpu: '1024', memoryMiB: '3072' }).template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '3072',
    });
    // cpu alone: the least memory Fargate allows with it.
    synth({ cpu: '1024' }).template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024', Memory: '2048' });
    assert.throws(() => synth({ cpu: '300' }), /cpu \(context cpu\): 300; Fargate runs 256, 512/);
    assert.throws(
      () => synth({ cpu: '256', memoryMiB: '4096' }),
      /memoryLimitMiB \(context memoryMiB\): 4096 with cpu 256; Fargate allows 512, 1024, 2048 MiB/,
    );
    assert.throws(() => synth({ cpu: '1024', memoryMiB: '2500' }), /Fargate allows 2048 to 8192 in steps of 1024 MiB/);
    assert.throws(() => synth({ memoryMiB: 'lots' }), /memoryMiB: "lots"/);
    for (const bad of ['0x100', '1e3', ' ', '-256', '256.0']) {
      assert.throws(() => synth({ cpu: bad }), /context cpu: .* is not a whole number/, bad);
    }
  });

  test('bad context is refused with a message', () => {
    assert.throws(() => synth({ profile: 'staging' }), /profile: "staging"/);
    assert.throws(() => synth({ desiredCount: 'two' }), /desiredCount: "two"/);
    assert.throws(() => synth({ desiredCount: '0' }), /desiredCount: 0/);
  });

  test('ECS Exec: the task role may open SSM message channels', () => {
    def.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['ssmmessages:CreateControlChannel', 'ssmmessages:OpenDataChannel']) }),
        ]),
      },
    });
  });

  test('the service is registered in the five target groups (the ECS maximum)', () => {
    const [, svc] = only(def.template.findResources('AWS::ECS::Service')) as [string, any];
    assert.deepEqual(
      svc.Properties.LoadBalancers.map((lb: any) => lb.ContainerPort).sort(),
      [...RTSP_PORTS, HTTP_PORT].sort(),
    );
    assert.ok(svc.Properties.LoadBalancers.every((lb: any) => lb.ContainerName === 'rtsp-test-server'));
  });
});

describe('Network Load Balancer', () => {
  test('a network load balancer, internal by default, with a security group', () => {
    def.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internal',
      SecurityGroups: [{ 'Fn::GetAtt': [sgLogicalId(def.template, 'rtsp-test-server NLB'), 'GroupId'] }],
    });
  });

  test('one TCP listener and target group per RTSP port, each checked at /health on 8080 (ECS replaces a task any group calls unhealthy: one dead camera must not)', () => {
    const listeners = Object.values(def.template.findResources('AWS::ElasticLoadBalancingV2::Listener')) as any[];
    const groups = def.template.findResources('AWS::ElasticLoadBalancingV2::TargetGroup');
    const seen = new Set<string>();
    for (const port of RTSP_PORTS) {
      const l = listeners.filter((x) => x.Properties.Port === port);
      assert.equal(l.length, 1, `one listener on ${port}`);
      assert.equal(l[0].Properties.Protocol, 'TCP');
      const tgRef = l[0].Properties.DefaultActions[0].TargetGroupArn.Ref;
      assert.ok(!seen.has(tgRef), 'a target group of its own');
      seen.add(tgRef);
      const tg = groups[tgRef].Properties;
      assert.equal(tg.Port, port);
      assert.equal(tg.Protocol, 'TCP');
      assert.equal(tg.TargetType, 'ip');
      assert.equal(tg.HealthCheckProtocol, 'HTTP');
      assert.equal(tg.HealthCheckPort, String(HTTP_PORT));
      assert.equal(tg.HealthCheckPath, '/health');
      assert.equal(tg.Matcher.HttpCode, '200');
      assert.ok(tg.HealthCheckIntervalSeconds <= 10 && tg.UnhealthyThresholdCount <= 2, 'a dead port is seen in 20 s');
      const attrs = Object.fromEntries(tg.TargetGroupAttributes.map((a: any) => [a.Key, a.Value]));
      const delay = Number(attrs['deregistration_delay.timeout_seconds']);
      assert.ok(delay >= 30 && delay <= 60, `deregistration delay ${delay} s in 30-60`);
      assert.equal(attrs['preserve_client_ip.enabled'], 'false');
      assert.equal(attrs['deregistration_delay.connection_termination.enabled'], 'true');
    }
  });

  test('the HTTP API is published on 8080 with a liveness check, and can be left off', () => {
    def.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: HTTP_PORT, Protocol: 'TCP' });
    def.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: HTTP_PORT,
      HealthCheckPath: '/health/live',
    });
    const s = synth({ httpApiListener: 'false' });
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 4);
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 4);
  });

  test('security groups: clients reach 8554-8557 (and 8080) on the NLB; only the NLB reaches the tasks', () => {
    const t = def.template;
    const nlbSg = sgLogicalId(t, 'rtsp-test-server NLB');
    const svcSg = sgLogicalId(t, 'rtsp-test-server tasks');
    const sgs = t.findResources('AWS::EC2::SecurityGroup') as any;
    // NLB: client CIDR (the VPC's by default) on the RTSP range and 8080.
    const nlbIngress = sgs[nlbSg].Properties.SecurityGroupIngress.map((r: any) => [r.CidrIp, r.FromPort, r.ToPort]);
    assert.deepEqual(nlbIngress, [
      ['10.0.0.0/16', 8554, 8557],
      ['10.0.0.0/16', 8080, 8080],
    ]);
    // Tasks: no CIDR rule at all; ingress only from the NLB's group.
    assert.equal(sgs[svcSg].Properties.SecurityGroupIngress, undefined);
    const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')) as any[];
    const toService = ingress.filter((r) => r.Properties.GroupId['Fn::GetAtt'][0] === svcSg);
    assert.deepEqual(
      toService.map((r) => [r.Properties.SourceSecurityGroupId['Fn::GetAtt'][0], r.Properties.FromPort, r.Properties.ToPort]),
      [
        [nlbSg, 8554, 8557],
        [nlbSg, 8080, 8080],
      ],
    );
    assert.equal(ingress.length, 2, 'no other ingress rule in the stack');
    // NLB out: only to the tasks, on those ports.
    const egress = Object.values(t.findResources('AWS::EC2::SecurityGroupEgress')) as any[];
    assert.deepEqual(
      egress.map((r) => [r.Properties.GroupId['Fn::GetAtt'][0], r.Properties.DestinationSecurityGroupId['Fn::GetAtt'][0], r.Properties.FromPort, r.Properties.ToPort]),
      [
        [nlbSg, svcSg, 8554, 8557],
        [nlbSg, svcSg, 8080, 8080],
      ],
    );
  });

  test('internet-facing with clients from anywhere: public subnets, EC23 acknowledged for it only', () => {
    const s = synth({ internetFacing: 'true', clientCidr: '0.0.0.0/0' });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    assert.ok(s.stack.nagAcknowledgements.some((a) => a.id === 'AwsSolutions-EC23'));
    assert.ok(!def.stack.nagAcknowledgements.some((a) => a.id === 'AwsSolutions-EC23'));
    const office = synth({ internetFacing: 'true', clientCidr: '203.0.113.0/24, 198.51.100.7/32' });
    const sgs = office.template.findResources('AWS::EC2::SecurityGroup') as any;
    const rules = sgs[sgLogicalId(office.template, 'rtsp-test-server NLB')].Properties.SecurityGroupIngress;
    assert.deepEqual([...new Set(rules.map((r: any) => r.CidrIp))], ['203.0.113.0/24', '198.51.100.7/32']);
    // IPv6 clients: an IPv6 rule (the '::/0' case threw "Invalid IPv4 CIDR").
    const v6 = synth({ internetFacing: 'true', clientCidr: '::/0' });
    const v6Rules = (v6.template.findResources('AWS::EC2::SecurityGroup') as any)[sgLogicalId(v6.template, 'rtsp-test-server NLB')]
      .Properties.SecurityGroupIngress;
    assert.deepEqual([...new Set(v6Rules.map((r: any) => r.CidrIpv6))], ['::/0']);
    assert.ok(v6.stack.nagAcknowledgements.some((a) => a.id === 'AwsSolutions-EC23'));
    // Public, but open to the VPC's block alone: no client could reach it.
    assert.throws(() => synth({ internetFacing: 'true' }), /internetFacing: .*clientCidr/);
  });
});

describe('outputs', () => {
  test('the four RTSP URLs and the health URL, on the NLB DNS name', () => {
    const outputs = def.template.findOutputs('*');
    const dns = { 'Fn::GetAtt': [nlbLogicalId(def.template), 'DNSName'] };
    RTSP_PORTS.forEach((port, i) => {
      assert.deepEqual(outputs[`Camera${i + 1}Url`].Value, { 'Fn::Join': ['', ['rtsp://', dns, `:${port}/stream`]] });
    });
    assert.deepEqual(outputs.HealthUrl.Value, { 'Fn::Join': ['', ['http://', dns, `:${HTTP_PORT}/health`]] });
  });
});

describe('cdk-nag', () => {
  test('each acknowledged finding is a real finding, and has a written reason', () => {
    let threw: unknown;
    let outdir = '';
    try {
      const { app, stack } = buildApp(
        { outdir: (outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'rts-cdk-'))), context: CDK_JSON.context },
        { acknowledgeNagFindings: false },
      );
      outdirs.push(outdir);
      assert.ok(stack.nagAcknowledgements.length > 0);
      app.synth();
    } catch (e) {
      threw = e;
    }
    assert.ok(threw instanceof Error && /Validation failed/.test(threw.message), 'without acknowledgements synth fails');
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    const found = report.pluginReports
      .flatMap((r: any) => r.violations)
      .flatMap((v: any) => v.violatingConstructs.map((c: any) => `${v.ruleName} @ ${c.constructPath}`))
      .sort();
    const acks = def.stack.nagAcknowledgements;
    // Every finding is covered by an acknowledgement on it or a parent...
    for (const f of found) {
      const [id, at] = f.split(' @ ');
      assert.ok(
        acks.some((a) => a.id === id && (at === a.path || at.startsWith(`${a.path}/`))),
        `finding ${f} is acknowledged`,
      );
    }
    // ...and every acknowledgement answers a finding, with a reason.
    for (const a of acks) {
      assert.ok(
        found.some((f: string) => f.startsWith(`${a.id} @ ${a.path}`)),
        `acknowledgement ${a.id} on ${a.path} answers a real finding`,
      );
      assert.ok(a.reason.length >= 80, `a written reason for ${a.id}`);
    }
    assert.deepEqual(
      [...new Set(acks.map((a) => a.id.replace(/\[.*/, '')))].sort(),
      ['AwsSolutions-ECS2', 'AwsSolutions-ELB2', 'AwsSolutions-IAM5'],
    );
  });
});

describe('control API', () => {
  const containerSecrets = (t: Template) => {
    const [, td] = only(t.findResources('AWS::ECS::TaskDefinition'));
    return (td as any).Properties.ContainerDefinitions[0].Secrets;
  };

  test('off by default: no token, no secret', () => {
    def.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    assert.equal(containerSecrets(def.template), undefined);
    assert.equal(Object.keys(def.template.findOutputs('ControlTokenSecretArn')).length, 0);
  });

  // The statements that read secrets, and the roles their policies belong to.
  const secretReads = (t: Template) =>
    Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) =>
      p.Properties.PolicyDocument.Statement.filter((st: any) =>
        [st.Action].flat().includes('secretsmanager:GetSecretValue'),
      ).map((st: any) => ({ statement: st, roles: p.Properties.Roles.map((r: any) => r.Ref) })),
    );
  const roleOf = (t: Template, key: 'ExecutionRoleArn' | 'TaskRoleArn') => {
    const [, td] = only(t.findResources('AWS::ECS::TaskDefinition'));
    return (td as any).Properties[key]['Fn::GetAtt'][0];
  };

  test('controlApi: a generated token, handed over as a container secret', () => {
    const s = synth({ controlApi: 'true' });
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 40, ExcludePunctuation: true, IncludeSpace: false },
    });
    const [secretId] = only(s.template.findResources('AWS::SecretsManager::Secret'));
    assert.deepEqual(containerSecrets(s.template), [
      { Name: 'RTSP_TEST_SERVER_CONTROL_TOKEN', ValueFrom: { Ref: secretId } },
    ]);
    // Not an environment variable: the template never holds the token.
    const [, td] = only(s.template.findResources('AWS::ECS::TaskDefinition'));
    const env = (td as any).Properties.ContainerDefinitions[0].Environment.map((e: any) => e.Name);
    assert.ok(!env.includes('RTSP_TEST_SERVER_CONTROL_TOKEN'));
    // The execution role reads that one secret (ECS does, at the task's
    // start), the task role nothing; and the output names it.
    const reads = secretReads(s.template);
    assert.equal(reads.length, 1);
    assert.deepEqual(reads[0].statement.Resource, { Ref: secretId });
    assert.deepEqual(reads[0].roles, [roleOf(s.template, 'ExecutionRoleArn')]);
    assert.notEqual(roleOf(s.template, 'TaskRoleArn'), roleOf(s.template, 'ExecutionRoleArn'));
    s.template.hasOutput('ControlTokenSecretArn', { Value: { Ref: secretId } });
  });

  test('controlTokenSecretArn: the user\'s own secret, none created', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rts-control-AbCdEf';
    const s = synth({ controlTokenSecretArn: arn });
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    assert.deepEqual(containerSecrets(s.template), [{ Name: 'RTSP_TEST_SERVER_CONTROL_TOKEN', ValueFrom: arn }]);
    assert.throws(
      () => synth({ controlTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rts-control' }),
      /controlTokenSecretArn: .*complete ARN/,
    );
    const reads = secretReads(s.template);
    assert.equal(reads.length, 1);
    assert.equal(reads[0].statement.Resource, arn);
    assert.deepEqual(reads[0].roles, [roleOf(s.template, 'ExecutionRoleArn')]);
    // Other partitions, and names with every character a secret's name may hold.
    for (const ok of [
      'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:team/rts_ctl+a=b.c@d-Ab12Cd',
      'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:rts-Zz9Yy8',
    ]) {
      assert.deepEqual(containerSecrets(synth({ controlTokenSecretArn: ok }).template), [
        { Name: 'RTSP_TEST_SERVER_CONTROL_TOKEN', ValueFrom: ok },
      ]);
    }
    for (const bad of [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rts',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rts-control-AbCdEf:token::',
      'rts-control-AbCdEf',
    ]) {
      assert.throws(() => synth({ controlTokenSecretArn: bad }), /controlTokenSecretArn: .*complete ARN/, bad);
    }
  });

  test('a secret under a key of your own: the execution role may decrypt with it', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rts-control-AbCdEf';
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const s = synth({ controlTokenSecretArn: arn, controlTokenKmsKeyArn: key });
    s.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleOf(s.template, 'ExecutionRoleArn') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'kms:Decrypt',
            Resource: key,
            Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } },
          }),
        ]),
      },
    });
    assert.throws(() => synth({ controlTokenKmsKeyArn: key }), /controlTokenKmsKeyArn: .*controlTokenSecretArn/);
    assert.throws(
      () => synth({ controlTokenSecretArn: arn, controlTokenKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/rts' }),
      /not an alias/,
    );
    // A secret in another region is decrypted there.
    const far = synth({
      controlTokenSecretArn: 'arn:aws:secretsmanager:us-east-2:123456789012:secret:rts-control-AbCdEf',
      controlTokenKmsKeyArn: 'arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    far.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'kms:Decrypt',
            Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-2.amazonaws.com' } },
          }),
        ]),
      },
    });
    assert.throws(() => synth({ controlApi: 'false', controlTokenSecretArn: arn }), /controlApi: false, but controlTokenSecretArn/);
    // An empty value (an unset shell variable) is no secret, and turns nothing on.
    const empty = synth({ controlApi: 'false', controlTokenSecretArn: '' });
    empty.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    assert.equal(containerSecrets(empty.template), undefined);
  });

  test('on an NLB open to the whole internet, only when the deployer accepts it', () => {
    const world = { internetFacing: 'true', clientCidr: '0.0.0.0/0', controlApi: 'true' };
    assert.throws(() => synth(world), /cleartext.*controlApiPublic=true/);
    assert.doesNotThrow(() => synth({ ...world, httpApiListener: 'false' }));
    const s = synth({ ...world, controlApiPublic: 'true' });
    const acks = s.stack.nagAcknowledgements.filter((a) => a.id === 'AwsSolutions-EC23');
    assert.equal(acks.length, 1);
    assert.match(acks[0].reason, /control API behind its token, in cleartext/);
    // Open to a narrower block, nothing to accept.
    assert.doesNotThrow(() => synth({ ...world, clientCidr: '203.0.113.0/24' }));
  });

  test('cdk-nag: the generated secret\'s one finding (no rotation) is acknowledged, and real', () => {
    assert.doesNotThrow(() => synth({ controlApi: 'true' }));
    let threw: unknown;
    try {
      synth({ controlApi: 'true' }, { acknowledgeNagFindings: false });
    } catch (e) {
      threw = e;
    }
    assert.ok(threw instanceof Error && /Validation failed/.test(threw.message));
    const outdir = outdirs[outdirs.length - 1];
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    const found = report.pluginReports
      .flatMap((r: any) => r.violations)
      .flatMap((v: any) => v.violatingConstructs.map((c: any) => `${v.ruleName} @ ${c.constructPath}`));
    assert.ok(found.some((f: string) => /^AwsSolutions-SMG4 @ .*\/ControlToken/.test(f)), found.join('\n'));
    assert.throws(() => synth({ controlApi: 'yes' }), /controlApi: "yes"/);
  });
});
