#!/usr/bin/env node
// The `recap` command (package.json "bin"); npm links it into node_modules/.bin.
import { runAsProgram } from './main.ts';

await runAsProgram();
