// @ts-check
/**
 * Locating and loading the q2c.v1 protos.
 *
 * The q2c protos live in the repository's `protos/` directory. Their imports come from Python
 * wheels that the q2c virtual environment already has: google/api, google/rpc and google/type
 * from `googleapis-common-protos`, the well-known types (google/protobuf) from grpcio-tools'
 * bundled `_proto` directory (as in scripts/gen_protos.py and scripts/buf_lint.sh). They are
 * found by asking that Python interpreter once, at load time; `Q2C_PROTO_INCLUDE` (a
 * path-delimited list of directories) skips the question.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** The repository root (clients/node/src -> ../../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The directory holding q2c/v1/*.proto. */
export const PROTO_ROOT = path.join(REPO_ROOT, 'protos');

/**
 * The Python interpreter of the q2c environment: $Q2C_PYTHON, else <repo>/.venv (made by
 * scripts/test.sh), else a .venv beside the repository, else /work/.venv (the shared
 * development environment), else python3 on PATH.
 * @returns {string}
 */
export function findPython() {
  if (process.env.Q2C_PYTHON) return process.env.Q2C_PYTHON;
  for (const candidate of [
    path.join(REPO_ROOT, '.venv', 'bin', 'python'),
    path.join(REPO_ROOT, '..', '.venv', 'bin', 'python'),
    '/work/.venv/bin/python',
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  return 'python3';
}

const FIND_INCLUDES = `
import os
from importlib import resources
import google.rpc.status_pb2 as status_pb2
print(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(status_pb2.__file__)))))
print(resources.files("grpc_tools") / "_proto")
`;

/** @type {string[] | undefined} */
let includeCache;

/**
 * Include directories for the imports of the q2c protos (googleapis, well-known types).
 * @returns {string[]}
 */
export function thirdPartyIncludes() {
  if (includeCache) return includeCache;
  if (process.env.Q2C_PROTO_INCLUDE) {
    includeCache = process.env.Q2C_PROTO_INCLUDE.split(path.delimiter).filter(Boolean);
    return includeCache;
  }
  const python = findPython();
  let out;
  try {
    out = execFileSync(python, ['-c', FIND_INCLUDES], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = /** @type {{stderr?: string}} */ (error).stderr ?? '';
    throw new Error(
      `cannot locate the googleapis / well-known-type protos with ${python} ` +
        '(needs googleapis-common-protos and grpcio-tools; run scripts/test.sh, or set Q2C_PYTHON ' +
        `or Q2C_PROTO_INCLUDE): ${String(stderr).trim() || String(error)}`,
    );
  }
  const dirs = out.split('\n').map((line) => line.trim()).filter(Boolean);
  for (const [dir, probe] of [
    [dirs[0], 'google/rpc/status.proto'],
    [dirs[1], 'google/protobuf/timestamp.proto'],
  ]) {
    if (!dir || !existsSync(path.join(dir, probe))) {
      throw new Error(`${probe} not found under ${dir} (asked ${python})`);
    }
  }
  includeCache = dirs;
  return dirs;
}

/** Every q2c proto, relative to PROTO_ROOT (import-path form), sorted. */
export function q2cProtoFiles() {
  const dir = path.join(PROTO_ROOT, 'q2c', 'v1');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.proto'))
    .sort()
    .map((name) => `q2c/v1/${name}`);
}

/**
 * proto-loader options: field names as in the .proto (snake_case, like the Python SDK), enums
 * as their names, 64-bit integers as decimal strings (exact), defaults filled in, and the
 * name of the set member of each oneof (e.g. `terms: 'fixed_fee'`).
 */
export const LOADER_OPTIONS = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** @type {grpc.GrpcObject | undefined} */
let grpcCache;

/**
 * The gRPC package object: `pkg.q2c.v1.EngagementService` etc. are client constructors.
 * @returns {grpc.GrpcObject}
 */
export function loadQ2c() {
  if (grpcCache) return grpcCache;
  const definition = protoLoader.loadSync(q2cProtoFiles(), {
    ...LOADER_OPTIONS,
    includeDirs: [PROTO_ROOT, ...thirdPartyIncludes()],
  });
  grpcCache = grpc.loadPackageDefinition(definition);
  return grpcCache;
}

/** @type {protobuf.Root | undefined} */
let rpcRootCache;

/**
 * A protobufjs Root with google.rpc.Status and the standard error details (ErrorInfo,
 * BadRequest, PreconditionFailure, ...), to decode the `grpc-status-details-bin` trailer.
 * @returns {protobuf.Root}
 */
export function errorDetailsRoot() {
  if (rpcRootCache) return rpcRootCache;
  const includes = thirdPartyIncludes();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of includes) {
      const candidate = path.join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return target;
  };
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  root.resolveAll();
  rpcRootCache = root;
  return root;
}
