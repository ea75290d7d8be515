// The CDK app: one RtspTestServerStack, configured from CDK context
// (`-c key=value` or cdk.json), with cdk-nag's AwsSolutions checks run on
// every synth. bin/app.ts calls this; the tests call it too, so they check
// exactly what `cdk synth` produces.
//
// Context keys (all optional):
//   profile         test (default) | production   (see PROFILES)
//   desiredCount, minHealthyPercent, maxHealthyPercent   override the profile
//   vpcId           an existing VPC to deploy into (needs account and region)
//   internetFacing  true for an internet-facing NLB (default: internal)
//   clientCidr      comma-separated CIDR blocks allowed to the NLB (default: the VPC's)
//   httpApiListener false to keep the HTTP API off the NLB
//   cpu, memoryMiB  the task's size (default 256 and 512: 0.25 vCPU, 512 MiB)
//   controlApi      true to turn the control API on, its token generated in Secrets Manager
//   controlTokenSecretArn  the same with your own secret (its complete ARN)
//   controlTokenKmsKeyArn  the customer-managed KMS key of that secret, if any
//   controlApiPublic true to accept the control API on an NLB open to the whole internet
//   stackName       default RtspTestServer
import { App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PROFILES, ProfileName, RtspTestServerStack } from './rtsp-test-server-stack';

function intFrom(app: App, key: string): number | undefined {
  const v = app.node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(String(v).trim()) || !Number.isSafeInteger(n)) {
    throw new Error(`context ${key}: "${v}" is not a whole number`);
  }
  return n;
}

/** A string from context; an empty one (an unset shell variable) is none. */
function stringFrom(app: App, key: string): string | undefined {
  const v = app.node.tryGetContext(key);
  if (v === undefined || v === null || String(v).trim() === '') return undefined;
  return String(v);
}

function boolFrom(app: App, key: string): boolean | undefined {
  const v = app.node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new Error(`context ${key}: "${v}" is not true or false`);
}

export interface BuildOptions {
  /** Tests only: leave the cdk-nag findings unacknowledged. @default true */
  readonly acknowledgeNagFindings?: boolean;
}

export function buildApp(props?: AppProps, options: BuildOptions = {}): { app: App; stack: RtspTestServerStack } {
  const app = new App(props);
  const profileName = String(app.node.tryGetContext('profile') ?? 'test');
  if (!(profileName in PROFILES)) {
    throw new Error(`context profile: "${profileName}"; want one of ${Object.keys(PROFILES).join(', ')}`);
  }
  const profile = PROFILES[profileName as ProfileName];
  const vpcId = app.node.tryGetContext('vpcId') as string | undefined;
  const clientCidr = app.node.tryGetContext('clientCidr') as string | undefined;

  const stack = new RtspTestServerStack(app, String(app.node.tryGetContext('stackName') ?? 'RtspTestServer'), {
    description: `rtsp-test-server on ECS Fargate behind an NLB (profile ${profileName})`,
    desiredCount: intFrom(app, 'desiredCount') ?? profile.desiredCount,
    minHealthyPercent: intFrom(app, 'minHealthyPercent') ?? profile.minHealthyPercent,
    maxHealthyPercent: intFrom(app, 'maxHealthyPercent') ?? profile.maxHealthyPercent,
    vpcId,
    internetFacing: boolFrom(app, 'internetFacing'),
    httpApiListener: boolFrom(app, 'httpApiListener'),
    cpu: intFrom(app, 'cpu'),
    controlApi: boolFrom(app, 'controlApi'),
    controlTokenSecretArn: stringFrom(app, 'controlTokenSecretArn'),
    controlTokenKmsKeyArn: stringFrom(app, 'controlTokenKmsKeyArn'),
    controlApiPublic: boolFrom(app, 'controlApiPublic'),
    memoryLimitMiB: intFrom(app, 'memoryMiB'),
    clientCidrs: clientCidr ? String(clientCidr).split(',').map((c) => c.trim()) : undefined,
    // A VPC lookup needs a concrete environment; otherwise the template stays
    // environment-agnostic and synthesizes with no AWS account at all.
    acknowledgeNagFindings: options.acknowledgeNagFindings,
    env: vpcId ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined,
  });

  // Any unacknowledged finding makes synth fail (ValidationFailed).
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
