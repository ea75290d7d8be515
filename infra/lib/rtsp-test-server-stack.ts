// rtsp-test-server on ECS Fargate behind a Network Load Balancer.
//
// One task runs the image built from the repository's Dockerfile: four fake
// cameras on 8554-8557 (RTSP) and the HTTP API on 8080. The NLB has one TCP
// listener and target group per camera port. ECS replaces a task that any of
// its target groups calls unhealthy, so every camera's group asks the
// server's own verdict, GET /health (3 of 4 cameras answer RTSP): one dead
// camera (or one a fault was injected into) stays dead to its clients, as a
// real camera would, and does not get the task and its three good cameras
// replaced; two do. The ECS container health check runs rtsp-health-check
// (exec form: no shell, no Python) against the same GET /health, as the
// image's HEALTHCHECK does: a stuck process fails it too.
//
// Design notes and the reasons for each value: docs/deployment.md.
import * as path from 'node:path';
import { CfnElement, CfnOutput, Duration, RemovalPolicy, Size, Stack, StackProps, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';

/** The cameras' RTSP ports (cam1..cam4), as the image serves them. */
export const RTSP_PORTS = [8554, 8555, 8556, 8557] as const;
/** The server's HTTP API port (/health, /health/PORT, /rtsp-urls). */
export const HTTP_PORT = 8080;
export const CONTAINER_NAME = 'rtsp-test-server';

/**
 * The server's own verdict: 200 while at least 3 of the 4 cameras answer
 * RTSP. The camera target groups and the container health check ask it.
 */
export const HEALTH_PATH = '/health';

/** The container health check: the design note's documented default profile. */
export const CONTAINER_HEALTH_CHECK = {
  command: ['CMD', 'rtsp-health-check', '--url', `http://127.0.0.1:${HTTP_PORT}${HEALTH_PATH}`, '--timeout', '5'],
  intervalSeconds: 30,
  timeoutSeconds: 10,
  retries: 5,
  startPeriodSeconds: 90,
} as const;

/** Deployment profiles; any single value can still be overridden by a prop. */
export const PROFILES = {
  /**
   * One task, cheap. minHealthyPercent 0 lets ECS stop the only task before
   * its replacement is healthy: every deploy is a short outage. Fine for a
   * test rig, and said so.
   */
  test: { desiredCount: 1, minHealthyPercent: 0, maxHealthyPercent: 200 },
  /**
   * Two or more tasks; a deploy starts the new tasks and waits for them to be
   * healthy before stopping any old one: no outage.
   */
  production: { desiredCount: 2, minHealthyPercent: 100, maxHealthyPercent: 200 },
} as const;
export type ProfileName = keyof typeof PROFILES;

/**
 * The task sizes Fargate runs on Linux: per CPU value, the memory it allows
 * (MiB, from `min` to `max` in steps of `step`). Anything else fails only
 * at deploy time, in CloudFormation; refused here at synth, with the choices.
 */
const FARGATE_SIZES: Record<number, { min: number; max: number; step: number; list?: number[] }> = {
  256: { min: 512, max: 2048, step: 512, list: [512, 1024, 2048] },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

/** The least memory Fargate allows with CPU (512 MiB when CPU is not a Fargate size). */
function smallestMemory(cpu: number): number {
  const size = FARGATE_SIZES[cpu];
  return size ? (size.list?.[0] ?? size.min) : 512;
}

function checkFargateSize(cpu: number, memory: number, memoryGiven: boolean): void {
  const size = FARGATE_SIZES[cpu];
  if (!size) {
    throw new Error(
      `cpu (context cpu): ${cpu}; Fargate runs ${Object.keys(FARGATE_SIZES).join(', ')} CPU units ` +
        '(1024 units = 1 vCPU)',
    );
  }
  const ok = size.list
    ? size.list.includes(memory)
    : memory >= size.min && memory <= size.max && (memory - size.min) % size.step === 0;
  if (!ok) {
    const allowed = size.list
      ? size.list.join(', ')
      : `${size.min} to ${size.max} in steps of ${size.step}`;
    throw new Error(
      `memoryLimitMiB (context memoryMiB): ${memory}${memoryGiven ? '' : ', the default,'} with cpu ${cpu}; ` +
        `Fargate allows ${allowed} MiB`,
    );
  }
}

export interface RtspTestServerStackProps extends StackProps {
  /**
   * Deploy into this existing VPC (looked up by id: the stack then needs an
   * explicit account and region) instead of creating one.
   * @default - a new VPC: 2 AZs, public and private subnets, one NAT gateway, flow log
   */
  readonly vpcId?: string;
  /** CIDR block of the new VPC (not used with vpcId). @default '10.0.0.0/16' */
  readonly vpcCidr?: string;
  /** @default PROFILES.test.desiredCount (1) */
  readonly desiredCount?: number;
  /** @default PROFILES.test.minHealthyPercent (0) */
  readonly minHealthyPercent?: number;
  /** @default PROFILES.test.maxHealthyPercent (200) */
  readonly maxHealthyPercent?: number;
  /**
   * An internet-facing NLB (in public subnets) rather than an internal one.
   * @default false
   */
  readonly internetFacing?: boolean;
  /**
   * Who may reach the cameras (8554-8557) and the HTTP API (8080) on the NLB.
   * @default - the VPC's own CIDR block
   */
  readonly clientCidrs?: string[];
  /**
   * Also publish the HTTP API (GET /health, /rtsp-urls; with `controlApi`,
   * /control behind its token) on the NLB, port
   * 8080, to the same clients. The tasks' own 8080 stays reachable from the
   * NLB only either way. Uses the 5th (last) target group ECS allows per service.
   * @default true
   */
  readonly httpApiListener?: boolean;
  /**
   * Turn the control API on (fault injection: POST/DELETE
   * /control/cameras/NAME/faults) behind a bearer token the stack generates
   * in Secrets Manager (40 letters and digits) and hands the container as
   * RTSP_TEST_SERVER_CONTROL_TOKEN. Anyone who can reach the HTTP API and
   * read the secret can then stop the cameras: off by default.
   * @default false
   */
  readonly controlApi?: boolean;
  /**
   * The same with a token of your own: the complete ARN of a Secrets Manager
   * secret whose string is the token (ASCII, no space at either end, at
   * most 4096 bytes). Implies controlApi.
   * @default - none
   */
  readonly controlTokenSecretArn?: string;
  /**
   * The customer-managed KMS key that encrypts `controlTokenSecretArn`, if
   * not the account's default one: the execution role is let decrypt with
   * it. (A secret in another account also needs a resource policy that lets
   * this stack's execution role read it.)
   * @default - the secret uses the AWS-managed key
   */
  readonly controlTokenKmsKeyArn?: string;
  /**
   * Accept the control API on an internet-facing NLB open to the whole
   * internet (clientCidrs 0.0.0.0/0 or ::/0): its bearer token then
   * crosses the internet in cleartext (port 8080 is plain HTTP), and anyone
   * may try it. Refused at synth without this.
   * @default false
   */
  readonly controlApiPublic?: boolean;
  /**
   * Fargate task CPU units. Four loop cameras (the default) use about 1 % of
   * a core, and 400 readers of them about 20 %: 0.25 vCPU carries them. A
   * live camera (`RTSP_TEST_SERVER_SOURCE=live`) runs an x264 encoder, about
   * 5 % of a core each: give four of them 1024.
   * @default 256
   */
  readonly cpu?: number;
  /**
   * Fargate task memory, one Fargate allows with `cpu`. The server stays
   * near 35 MiB with 400 readers.
   * @default - the least Fargate allows with `cpu`: 512 with 256, 2048 with 1024
   */
  readonly memoryLimitMiB?: number;
  /** Directory holding the Dockerfile. @default - the repository root */
  readonly imageDirectory?: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How long the NLB keeps sending established connections to a target being
   * deregistered, before ECS sends SIGTERM. 30 to 60 s.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * Acknowledge the cdk-nag findings listed in nagAcknowledgements. Only the
   * tests turn this off, to prove each acknowledgement answers a real finding.
   * @default true
   */
  readonly acknowledgeNagFindings?: boolean;
}

/** One cdk-nag finding acknowledged on purpose, with why. */
export interface NagAcknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

export class RtspTestServerStack extends Stack {
  public readonly service: ecs.FargateService;
  public readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** Every cdk-nag finding this stack acknowledges, and the reason. */
  public readonly nagAcknowledgements: NagAcknowledgement[] = [];
  private readonly acknowledgeNagFindings: boolean;

  constructor(scope: Construct, id: string, props: RtspTestServerStackProps = {}) {
    super(scope, id, props);
    this.acknowledgeNagFindings = props.acknowledgeNagFindings ?? true;

    const desiredCount = props.desiredCount ?? PROFILES.test.desiredCount;
    const minHealthyPercent = props.minHealthyPercent ?? PROFILES.test.minHealthyPercent;
    const maxHealthyPercent = props.maxHealthyPercent ?? PROFILES.test.maxHealthyPercent;
    const internetFacing = props.internetFacing ?? false;
    const httpApiListener = props.httpApiListener ?? true;
    const deregistrationDelay = props.deregistrationDelay ?? Duration.seconds(30);
    const delay = deregistrationDelay.toSeconds();
    if (delay < 30 || delay > 60) {
      throw new Error(`deregistrationDelay: ${delay} s; want 30 to 60 s`);
    }
    if (desiredCount < 1) {
      throw new Error(`desiredCount: ${desiredCount}; want at least 1`);
    }
    const cpu = props.cpu ?? 256;
    const memoryLimitMiB = props.memoryLimitMiB ?? smallestMemory(cpu);
    checkFargateSize(cpu, memoryLimitMiB, props.memoryLimitMiB !== undefined);
    // An empty string is no secret (as from an unset variable); it must not
    // turn the control API on either.
    const ownSecret = props.controlTokenSecretArn || undefined;
    if (props.controlApi === false && ownSecret) {
      throw new Error('controlApi: false, but controlTokenSecretArn turns the control API on; drop one of them');
    }
    if (props.controlTokenKmsKeyArn && !ownSecret) {
      throw new Error('controlTokenKmsKeyArn: the key of your own secret; name the secret with controlTokenSecretArn');
    }
    const controlApi = props.controlApi === true || ownSecret !== undefined;

    // ------------------------------------------------------------- network
    let vpc: ec2.IVpc;
    if (props.vpcId) {
      vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId });
    } else {
      const flowLogGroup = new logs.LogGroup(this, 'VpcFlowLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      vpc = new ec2.Vpc(this, 'Vpc', {
        ipAddresses: ec2.IpAddresses.cidr(props.vpcCidr ?? '10.0.0.0/16'),
        maxAzs: 2,
        natGateways: 1,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
        ],
        flowLogs: {
          all: {
            destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
            trafficType: ec2.FlowLogTrafficType.ALL,
          },
        },
      });
    }
    // A literal CIDR, not the VPC's CloudFormation attribute, so the rules
    // can be read (and checked by cdk-nag) in the synthesized template.
    const clientCidrs = props.clientCidrs ?? [props.vpcId ? vpc.vpcCidrBlock : (props.vpcCidr ?? '10.0.0.0/16')];
    if (clientCidrs.length === 0) {
      throw new Error('clientCidrs: empty; name at least one CIDR block');
    }
    // A public NLB is reached from public addresses only (even from inside
    // the VPC, by way of the NAT gateway): the VPC's own block would let
    // nobody in.
    if (internetFacing && !props.clientCidrs) {
      throw new Error(
        'internetFacing: an internet-facing NLB open to the VPC\'s own CIDR block (the default) ' +
          'reaches no client; name the clients with clientCidrs (context clientCidr)',
      );
    }

    // Security groups. CDK adds no rules for an NLB: all of them are here.
    // Clients -> NLB: the RTSP ports (and 8080 when the HTTP API is published).
    const nlbSecurityGroup = new ec2.SecurityGroup(this, 'NlbSecurityGroup', {
      vpc,
      description: 'rtsp-test-server NLB: RTSP (and HTTP API) clients in, tasks out',
      allowAllOutbound: false,
    });
    for (const cidr of clientCidrs) {
      const peer = cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr);
      nlbSecurityGroup.addIngressRule(peer, ec2.Port.tcpRange(RTSP_PORTS[0], RTSP_PORTS[3]), 'RTSP clients');
      if (httpApiListener) {
        nlbSecurityGroup.addIngressRule(
          peer,
          ec2.Port.tcp(HTTP_PORT),
          controlApi ? 'HTTP API clients (/health, /rtsp-urls, /control with its token)' : 'HTTP API clients (/health, /rtsp-urls)',
        );
      }
    }
    const worldOpen = clientCidrs.some((c) => c === '0.0.0.0/0' || c === '::/0');
    if (worldOpen && internetFacing && controlApi && httpApiListener && !props.controlApiPublic) {
      throw new Error(
        'controlApi on an NLB open to the whole internet: its bearer token would cross the internet ' +
          'in cleartext (8080 is plain HTTP) and anyone could try it. Name narrower clientCidrs, ' +
          'keep the HTTP API off the NLB (httpApiListener false: reach /control with ECS Exec), ' +
          'or accept it with controlApiPublic (context controlApiPublic=true)',
      );
    }
    if (worldOpen) {
      this.acknowledge(nlbSecurityGroup, {
        id: 'AwsSolutions-EC23',
        reason:
          'The deployer asked for this: clientCidrs names the whole internet, so anyone may play ' +
          'the test cameras. Only the RTSP ports and the HTTP API are open' +
          (!(controlApi && httpApiListener)
            ? ', read-only (no control API).'
            : internetFacing
              ? ', the control API behind its token, in cleartext, as the deployer accepted (controlApiPublic).'
              : ', the control API behind its token; the NLB is internal, reached from the VPC and its peers only.'),
      });
    }
    // NLB -> tasks: the RTSP ports and 8080 (target group health checks).
    // Nothing else reaches the tasks.
    const serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc,
      description: 'rtsp-test-server tasks: only the NLB in (RTSP 8554-8557, HTTP 8080)',
      allowAllOutbound: true, // ECR pulls, CloudWatch Logs, ECS Exec (SSM)
    });
    serviceSecurityGroup.connections.allowFrom(
      nlbSecurityGroup,
      ec2.Port.tcpRange(RTSP_PORTS[0], RTSP_PORTS[3]),
      'RTSP from the NLB',
    );
    serviceSecurityGroup.connections.allowFrom(
      nlbSecurityGroup,
      ec2.Port.tcp(HTTP_PORT),
      'HTTP API from the NLB (health checks, /rtsp-urls)',
    );

    const loadBalancer = new elbv2.NetworkLoadBalancer(this, 'Nlb', {
      vpc,
      internetFacing,
      vpcSubnets: { subnetType: internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [nlbSecurityGroup],
      crossZoneEnabled: true,
    });
    this.acknowledge(loadBalancer, {
      id: 'AwsSolutions-ELB2',
      reason:
        'NLB access logs are written only for TLS listeners; every listener here is plain TCP ' +
        '(RTSP and HTTP), so an access-log bucket would stay empty. Per-connection events are ' +
        "in the server's own log (CloudWatch Logs).",
    });
    this.loadBalancer = loadBalancer;

    // ------------------------------------------------------------ compute
    // ECS Exec sessions are logged to their own group (an audit trail); naming
    // it also scopes the task role's log permissions to it.
    const execLogGroup = new logs.LogGroup(this, 'ExecLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      executeCommandConfiguration: {
        logging: ecs.ExecuteCommandLogging.OVERRIDE,
        logConfiguration: { cloudWatchLogGroup: execLogGroup },
      },
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu,
      memoryLimitMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The control API's token, if asked for: generated here, or the user's.
    let controlToken: secretsmanager.ISecret | undefined;
    if (ownSecret) {
      // A partial ARN (no random suffix) names no secret ECS can read: the
      // task would fail to start, found only at deploy. (A name that itself
      // ends in '-' and six letters or digits cannot be told from a
      // complete ARN.)
      if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$/.test(ownSecret)) {
        throw new Error(
          `controlTokenSecretArn: "${ownSecret}"; want a secret's complete ARN, ` +
            'arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX (its six-character suffix included)',
        );
      }
      controlToken = secretsmanager.Secret.fromSecretCompleteArn(this, 'ControlToken', ownSecret);
    } else if (controlApi) {
      const generated = new secretsmanager.Secret(this, 'ControlToken', {
        description: 'rtsp-test-server control API bearer token (RTSP_TEST_SERVER_CONTROL_TOKEN)',
        generateSecretString: { passwordLength: 40, excludePunctuation: true, includeSpace: false },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.acknowledge(generated, {
        id: 'AwsSolutions-SMG4',
        reason:
          'The control token of a test rig, read by the task at start: rotating it means ' +
          'restarting the tasks (a deploy, or ECS UpdateService --force-new-deployment), ' +
          'which a rotation Lambda would not do.',
      });
      controlToken = generated;
    }

    const imageDirectory = props.imageDirectory ?? path.resolve(__dirname, '..', '..', '..');
    const container = taskDefinition.addContainer(CONTAINER_NAME, {
      containerName: CONTAINER_NAME,
      // Built at `cdk deploy` from the repository's Dockerfile; synth only
      // copies the build context (what .dockerignore lets through).
      image: ecs.ContainerImage.fromAsset(imageDirectory, {
        file: 'Dockerfile',
        platform: Platform.LINUX_AMD64,
      }),
      essential: true,
      environment: {
        // URLs in /rtsp-urls name the NLB, not the task's private IP.
        RTSP_TEST_SERVER_PUBLIC_HOST: loadBalancer.loadBalancerDnsName,
        // Only TCP passes the NLB: a UDP SETUP would succeed and its RTP go
        // to the NLB node's private address, dropped there, while ffmpeg,
        // VLC and GStreamer wait seconds before trying TCP (and some NVRs
        // never do). Refused with 461, every client goes to TCP at once.
        RTSP_TEST_SERVER_TRANSPORTS: 'tcp',
      },
      // Read by ECS at the task's start, never in the template or the
      // task definition.
      secrets: controlToken
        ? { RTSP_TEST_SERVER_CONTROL_TOKEN: ecs.Secret.fromSecretsManager(controlToken) }
        : undefined,
      // Non-blocking: a slow CloudWatch never stalls the server's event loop
      // (a blocked stderr would stall every camera and fail every health
      // check); a full 25 MB buffer drops log lines instead.
      logging: ecs.LogDrivers.awsLogs({
        logGroup,
        streamPrefix: CONTAINER_NAME,
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      healthCheck: {
        command: [...CONTAINER_HEALTH_CHECK.command],
        interval: Duration.seconds(CONTAINER_HEALTH_CHECK.intervalSeconds),
        timeout: Duration.seconds(CONTAINER_HEALTH_CHECK.timeoutSeconds),
        retries: CONTAINER_HEALTH_CHECK.retries,
        startPeriod: Duration.seconds(CONTAINER_HEALTH_CHECK.startPeriodSeconds),
      },
      // An init as PID 1 reaps the processes ECS Exec and the health check
      // leave; the server still gets SIGTERM and exits 0 at the latest after its
      // 5 s shutdown timeout, inside the 10 s stop timeout.
      linuxParameters: new ecs.LinuxParameters(this, 'LinuxParameters', { initProcessEnabled: true }),
      stopTimeout: Duration.seconds(10),
      portMappings: [
        ...RTSP_PORTS.map((port) => ({ containerPort: port, protocol: ecs.Protocol.TCP, name: `rtsp-${port}` })),
        { containerPort: HTTP_PORT, protocol: ecs.Protocol.TCP, name: 'http' },
      ],
    });
    if (props.controlTokenKmsKeyArn && ownSecret) {
      // A key, not an alias (a grant on an alias ARN authorizes nothing),
      // and the decryption runs in the secret's region, which ECS may read
      // across regions by its ARN.
      if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/.test(props.controlTokenKmsKeyArn)) {
        throw new Error(
          `controlTokenKmsKeyArn: "${props.controlTokenKmsKeyArn}"; want a key's ARN, ` +
            'arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (not an alias)',
        );
      }
      const secretRegion = ownSecret.split(':')[3];
      // ECS reads the secret as the execution role, and Secrets Manager
      // decrypts it with the user's key on that role's behalf: that key,
      // through Secrets Manager only. (CDK's grant on an imported key adds
      // nothing: it cannot change the key's policy, and left the role out.)
      taskDefinition.obtainExecutionRole().addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [props.controlTokenKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${secretRegion}.amazonaws.com` } },
        }),
      );
    }
    this.acknowledge(taskDefinition, {
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment variables are RTSP_TEST_SERVER_PUBLIC_HOST, the public DNS name of ' +
        'the NLB, and RTSP_TEST_SERVER_TRANSPORTS (tcp): not secrets. The control token, when ' +
        'there is one, is a container secret from Secrets Manager, not a variable.',
    });

    const service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount,
      minHealthyPercent,
      maxHealthyPercent,
      circuitBreaker: { enable: true, rollback: true },
      enableExecuteCommand: true,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      securityGroups: [serviceSecurityGroup],
      // The server answers /health within a second of starting; 60 s covers
      // the image pull and the NLB's first two checks.
      healthCheckGracePeriod: Duration.seconds(60),
    });
    this.service = service;
    const executionRolePolicy = taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy');
    if (executionRolePolicy) {
      this.acknowledge(executionRolePolicy, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Task execution role, written by CDK: ecr:GetAuthorizationToken supports no ' +
          'resource-level permissions, so it needs Resource "*". The image pull (ecr:BatchGet*, ' +
          'GetDownloadUrlForLayer) and the log writes are scoped to the asset repository and ' +
          'the log group.',
      });
    }
    const taskRolePolicy = taskDefinition.taskRole.node.tryFindChild('DefaultPolicy');
    if (taskRolePolicy) {
      this.acknowledge(taskRolePolicy, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ECS Exec, as CDK writes it: the ssmmessages Create/Open Control/Data Channel actions ' +
          'support no resource-level permissions (AWS documents Resource "*" for them), and ' +
          'logs:DescribeLogGroups is a listing call the exec agent makes before it logs.',
      });
      // cdk-nag names the finding by the ARN as written in the template:
      // pseudo parameters stay <AWS::...> unless the stack has an environment.
      const part = (v: string, pseudo: string) => (Token.isUnresolved(v) ? `<AWS::${pseudo}>` : v);
      const execLogGroupId = this.getLogicalId(execLogGroup.node.defaultChild as CfnElement);
      this.acknowledge(taskRolePolicy, {
        id:
          `AwsSolutions-IAM5[Resource::arn:${part(this.partition, 'Partition')}:logs:` +
          `${part(this.region, 'Region')}:${part(this.account, 'AccountId')}:log-group:<${execLogGroupId}>:*]`,
        reason:
          'ECS Exec session logs: each session writes its own log stream, named at run time, ' +
          'so the grant covers the streams of the one exec log group of this stack, no more.',
      });
    }

    // ---------------------------------------------------- load balancing
    // One listener and one target group per camera. Each asks /health, not
    // /health/PORT: ECS stops a task that any group reports unhealthy, and
    // a per-port check made one dead camera cost all four.
    for (const port of RTSP_PORTS) {
      const listener = loadBalancer.addListener(`Rtsp${port}`, { port, protocol: elbv2.Protocol.TCP });
      const targetGroup = listener.addTargets(`Camera${port}`, {
        port,
        protocol: elbv2.Protocol.TCP,
        targets: [service.loadBalancerTarget({ containerName: CONTAINER_NAME, containerPort: port })],
        deregistrationDelay,
        preserveClientIp: false,
        healthCheck: {
          protocol: elbv2.Protocol.HTTP,
          port: String(HTTP_PORT),
          path: HEALTH_PATH,
          healthyHttpCodes: '200',
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
      // Readers still playing when the delay ends are cut then, not left on
      // a task that is about to get SIGTERM.
      targetGroup.setAttribute('deregistration_delay.connection_termination.enabled', 'true');
    }
    if (httpApiListener) {
      const listener = loadBalancer.addListener('Http', { port: HTTP_PORT, protocol: elbv2.Protocol.TCP });
      listener.addTargets('HttpApi', {
        port: HTTP_PORT,
        protocol: elbv2.Protocol.TCP,
        targets: [service.loadBalancerTarget({ containerName: CONTAINER_NAME, containerPort: HTTP_PORT })],
        deregistrationDelay,
        preserveClientIp: false,
        healthCheck: {
          protocol: elbv2.Protocol.HTTP,
          port: String(HTTP_PORT),
          path: '/health/live',
          healthyHttpCodes: '200',
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
    }
    void container;

    // ------------------------------------------------------------ outputs
    const host = loadBalancer.loadBalancerDnsName;
    RTSP_PORTS.forEach((port, i) => {
      new CfnOutput(this, `Camera${i + 1}Url`, {
        description: `cam${i + 1}: RTSP over TCP (interleaved); RTP over UDP does not cross an NLB`,
        value: `rtsp://${host}:${port}/stream`,
      });
    });
    new CfnOutput(this, 'HealthUrl', {
      description: httpApiListener
        ? 'GET /health through the NLB (from clientCidrs)'
        : 'GET /health inside a task (ECS Exec); the HTTP API is not published on the NLB',
      value: httpApiListener ? `http://${host}:${HTTP_PORT}/health` : `http://127.0.0.1:${HTTP_PORT}/health`,
    });
    if (controlToken) {
      new CfnOutput(this, 'ControlTokenSecretArn', {
        value: controlToken.secretArn,
        description:
          'The control API token: aws secretsmanager get-secret-value --secret-id ARN ' +
          '--query SecretString --output text',
      });
    }
    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: service.serviceName });
    new CfnOutput(this, 'LogGroupName', { value: logGroup.logGroupName });
  }

  private acknowledge(scope: IConstruct, finding: { id: string; reason: string }): void {
    this.nagAcknowledgements.push({ path: scope.node.path, ...finding });
    if (this.acknowledgeNagFindings) {
      Validations.of(scope).acknowledge(finding);
    }
  }
}
