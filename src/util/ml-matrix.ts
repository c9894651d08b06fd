/**
 * ml-matrix, required as CommonJS. Its ES module entry re-exports the CommonJS build, which makes
 * Node scan that whole file for its export names on every start: importing it took 38–49 ms here,
 * requiring it 7–8 ms, in a `tsne` command of 0.73 s.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const mlMatrix = require('ml-matrix') as typeof import('ml-matrix');

export const { EigenvalueDecomposition, Matrix, SingularValueDecomposition } = mlMatrix;
