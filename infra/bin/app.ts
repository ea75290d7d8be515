#!/usr/bin/env node
// Entry point of `cdk synth` / `cdk deploy` (cdk.json "app"). See lib/app.ts.
import { buildApp } from '../lib/app';

buildApp().app.synth();
