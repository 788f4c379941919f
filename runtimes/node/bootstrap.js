'use strict';
/**
 * Lamina Node.js runtime bootstrap.
 *
 * Started as `node bootstrap.js` inside a function sandbox. Loads the user's
 * handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops over the AWS
 * Lambda Runtime API 2018-06-01 at AWS_LAMBDA_RUNTIME_API:
 *   GET  /runtime/invocation/next -> run handler -> POST .../<id>/response|error
 * Load failures go to POST /runtime/init/error, after which the process exits.
 *
 * Behaviour follows the official Node.js runtime where users can observe it
 * (error payloads, log line format, context object). Known differences:
 *  - context.callbackWaitsForEmptyEventLoop is accepted but not honoured: a
 *    callback/succeed/fail/done completes the invocation immediately instead of
 *    waiting for the event loop to drain.
 *  - A plain (non-promise) return value of a handler declared with fewer than
 *    three parameters is used as the result.
 *  - No response streaming, no JSON log format, no log-level filtering.
 *
 * Only built-ins already part of Node's startup (path, util, fs) plus `http`
 * are loaded eagerly, to keep cold starts short; `url` is loaded only for ES
 * modules.
 */

const http = require('http');
const path = require('path');
const fs = require('fs');
const { format, types } = require('util');

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
// Exit codes of the official runtime after a fatal error was reported.
const EXIT_UNCAUGHT_EXCEPTION = 129;
const EXIT_UNHANDLED_REJECTION = 128;

// ---------------------------------------------------------------- Runtime API

const apiAddress = process.env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001';
const apiHost = apiAddress.slice(0, apiAddress.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1'); // IPv6 literal
const apiPort = Number(apiAddress.slice(apiAddress.lastIndexOf(':') + 1));

// One persistent connection: the runtime never has two requests in flight, and
// re-using the socket saves a TCP handshake per call.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** Performs one Runtime API call; resolves to { status, headers, body }. No timeout: /next is a long poll. */
function callApi(method, apiPath, body, headers = {}, isRetry = false) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    if (payload) headers['Content-Length'] = payload.length;
    const req = http.request(
      { agent, host: apiHost, port: apiPort, method, path: API_PREFIX + apiPath, headers },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
    // Small request/response pairs: Nagle's algorithm would only add latency.
    req.on('socket', (socket) => socket.setNoDelay(true));
    req.on('error', (err) => {
      // The server may have closed the idle kept-alive socket; one retry on a fresh connection is safe.
      if (req.reusedSocket && !isRetry && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
        resolve(callApi(method, apiPath, body, headers, true));
      } else {
        reject(err);
      }
    });
    req.end(payload);
  });
}

async function postToApi(apiPath, body, headers) {
  const res = await callApi('POST', apiPath, body, { 'Content-Type': 'application/json', ...headers });
  if (res.status >= 300) {
    process.stderr.write(`Runtime API POST ${apiPath} answered ${res.status}: ${res.body}\n`);
  }
}

/** Posts an error to /init/error or /invocation/<id>/error in the official runtime's payload shape. */
function postError(apiPath, error) {
  const payload = toErrorPayload(error);
  // Header values must be printable ASCII; anything else is percent-encoded.
  const headerType = String(payload.errorType).replace(/[^\x20-\x7e]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return postToApi(apiPath, JSON.stringify(payload), { [ERROR_TYPE_HEADER]: headerType });
}

// --------------------------------------------------------------------- Errors

function isErrorLike(value) {
  return types.isNativeError(value) || value instanceof Error || (value !== null && typeof value === 'object'
    && typeof value.name === 'string' && typeof value.message === 'string' && typeof value.stack === 'string');
}

/** Error value -> Runtime API body. Non-errors report their typeof, e.g. `throw "boom"` -> errorType "string". */
function toErrorPayload(error) {
  try {
    if (isErrorLike(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: String(error.stack).split('\n') };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_) { // getters or toString() of the thrown value may themselves throw
    return { errorType: 'handled', errorMessage: 'Error value could not be inspected (name, message, stack or toString threw)', trace: [] };
  }
}

function safeString(value) {
  try {
    return String(value);
  } catch (_) { // e.g. Object.create(null) has no toString
    return format('%o', value);
  }
}

/** JSON for log lines: like the payload, plus the error's own enumerable properties (e.g. `code`). */
function toLogJson(error) {
  try {
    if (!isErrorLike(error)) return JSON.stringify(error);
    return JSON.stringify({ errorType: error.name, errorMessage: error.message, code: error.code, ...error,
      stack: String(error.stack).split('\n') });
  } catch (_) { // circular or otherwise unserialisable properties
    return JSON.stringify(toErrorPayload(error));
  }
}

/** Error whose name is a runtime category such as `Runtime.HandlerNotFound`; keeps the cause's stack for the trace. */
function runtimeError(type, message, cause) {
  const err = new Error(message);
  // Non-enumerable like a prototype `name`, so it does not show up in log JSON.
  Object.defineProperty(err, 'name', { value: type, writable: true, configurable: true });
  err.stack = `${type}: ${message}` + (cause && cause.stack ? `\n${cause.stack}` : '');
  return err;
}

// -------------------------------------------------------------------- Logging

// Request id shown in log lines. Like the official runtime it keeps the last
// invocation's id after that invocation ends; before the first one it is undefined.
let logRequestId;

/** One record per call; newlines become \r so a multi-line message stays one line in the log file. */
function writeLog(level, message) {
  process.stdout.write(`${new Date().toISOString()}\t${logRequestId}\t${level}\t${message.replace(/\n/g, '\r')}\n`);
}

function logError(label, error) {
  writeLog('ERROR', `${label} \t${toLogJson(error)}`);
}

function patchConsole() {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => writeLog(level, format(...args));
  }
}

// ------------------------------------------------------------ Handler loading

/** Resolves `<module path>.<export>` (split at the last dot) to the user's function. */
async function loadHandler(handlerString, taskRoot) {
  const dot = handlerString.lastIndexOf('.');
  if (dot < 0) throw runtimeError('Runtime.MalformedHandlerName', `Bad handler ${handlerString}`);
  const moduleName = handlerString.slice(0, dot);
  const exportName = handlerString.slice(dot + 1);

  const userModule = await loadUserModule(path.resolve(taskRoot, moduleName), moduleName);
  const handler = userModule == null ? undefined : userModule[exportName];
  if (handler === undefined || handler === null) {
    throw runtimeError('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw runtimeError('Runtime.HandlerNotFound', `${handlerString} is not a function`);
  }
  return handler;
}

async function loadUserModule(basePath, moduleName) {
  const file = ['.js', '.mjs', '.cjs'].map((ext) => basePath + ext).find(isFile);
  if (!file) {
    throw runtimeError('Runtime.ImportModuleError',
      `Error: Cannot find module '${moduleName}'\nRequire stack:\n- ${__filename}`);
  }
  try {
    return await importFile(file);
  } catch (err) {
    // Same classification as the official runtime; any other load-time exception is reported as thrown.
    if (err instanceof SyntaxError) throw runtimeError('Runtime.UserCodeSyntaxError', String(err), err);
    if (err && (err.code === 'MODULE_NOT_FOUND' || err.code === 'ERR_MODULE_NOT_FOUND')) {
      throw runtimeError('Runtime.ImportModuleError', String(err), err);
    }
    throw err;
  }
}

function isFile(file) {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat !== undefined && stat.isFile();
}

async function importFile(file) {
  if (!file.endsWith('.mjs')) {
    try {
      return require(file);
    } catch (err) {
      // ES module in a .js file (package.json "type": "module") that require() cannot load synchronously.
      if (err.code !== 'ERR_REQUIRE_ESM' && err.code !== 'ERR_REQUIRE_ASYNC_MODULE') throw err;
    }
  }
  const { pathToFileURL } = require('url');
  return import(pathToFileURL(file).href);
}

// ---------------------------------------------------------------- Invocations

// The invocation in progress, or null while initialising or waiting on /next.
let current = null;

/**
 * Creates the invocation record. `complete(outcome)` settles it once (later
 * calls are ignored); `posted` resolves after the outcome reached the Runtime API.
 */
function newInvocation(headers) {
  let complete;
  const outcome = new Promise((resolve) => { complete = resolve; });
  const invocation = {
    id: headers['lambda-runtime-aws-request-id'],
    deadlineMs: Number(headers['lambda-runtime-deadline-ms']),
    functionArn: headers['lambda-runtime-invoked-function-arn'],
    completed: false,
    complete(result) {
      if (invocation.completed) return;
      invocation.completed = true;
      complete(result);
    },
  };
  invocation.posted = outcome.then((result) => postOutcome(invocation.id, result));
  return invocation;
}

async function postOutcome(requestId, outcome) {
  if (outcome.ok) {
    let body;
    try {
      body = JSON.stringify(outcome.value === undefined ? null : outcome.value);
    } catch (err) {
      const error = runtimeError('Runtime.MarshalError', `Unable to stringify response body: ${err.message}`, err);
      return postOutcome(requestId, { ok: false, error });
    }
    // JSON.stringify yields undefined for functions and symbols; report those as null like undefined.
    return postToApi(`/invocation/${requestId}/response`, body === undefined ? 'null' : body);
  }
  if (!outcome.alreadyLogged) logError('Invoke Error', outcome.error);
  return postError(`/invocation/${requestId}/error`, outcome.error);
}

function parseEvent(body) {
  if (body === '') return {};
  try {
    return JSON.parse(body);
  } catch (err) {
    throw runtimeError('Runtime.UnmarshalError', `Unable to parse event as JSON: ${err.message}`, err);
  }
}

function parseJsonHeader(value, name) {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw runtimeError('Runtime.UnmarshalError', `Cannot parse ${name} as JSON: ${err.message}`, err);
  }
}

function buildContext(invocation, headers, completions) {
  const env = process.env;
  return {
    awsRequestId: invocation.id,
    invokedFunctionArn: invocation.functionArn,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'Cognito identity'),
    clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'client context'),
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => invocation.deadlineMs - Date.now(),
    ...completions,
  };
}

/** Calls the handler; whichever of promise, return value or callback/succeed/fail/done comes first completes. */
function startHandler(handler, invocation, headers, body) {
  const succeed = (value) => invocation.complete({ ok: true, value });
  const fail = (error) => invocation.complete({ ok: false, error });
  const done = (err, value) => (err === undefined || err === null ? succeed(value) : fail(err));
  try {
    const context = buildContext(invocation, headers, { succeed, fail, done });
    const returned = handler(parseEvent(body), context, done);
    if (returned && typeof returned.then === 'function') {
      invocation.returnedPromise = true;
      Promise.resolve(returned).then(succeed, fail);
      return;
    }
    // Callback-style handlers `(event, context, callback)` finish through the callback.
    if (handler.length < 3) succeed(returned);
  } catch (err) {
    fail(err);
  }
}

async function runNextInvocation(handler) {
  const next = await callApi('GET', '/invocation/next');
  if (next.status !== 200) throw new Error(`Runtime API /next answered ${next.status}: ${next.body}`);

  const invocation = newInvocation(next.headers);
  logRequestId = invocation.id;
  // The X-Ray SDK reads the trace header from the environment.
  const traceId = next.headers['lambda-runtime-trace-id'];
  if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
  else delete process.env._X_AMZN_TRACE_ID;

  current = invocation;
  startHandler(handler, invocation, next.headers, next.body);
  await invocation.posted;
  current = null;
}

// -------------------------------------------------------------- Fatal errors

let initialized = false;

/** Reports an uncaught exception/rejection (to the running invocation, or as init error) and exits. */
async function onFatalError(label, error, exitCode) {
  logError(label, error);
  try {
    if (current) {
      current.complete({ ok: false, error, alreadyLogged: true });
      await current.posted;
    } else if (!initialized) {
      await postError('/init/error', error);
    }
    // Between invocations there is nobody to report to; the platform notices the exit.
  } finally {
    process.exit(exitCode);
  }
}

function installProcessHooks() {
  process.on('uncaughtException', (err) => onFatalError('Uncaught Exception', err, EXIT_UNCAUGHT_EXCEPTION));
  process.on('unhandledRejection', (reason) => {
    // Wrapped like the official runtime, so the caller sees Runtime.UnhandledPromiseRejection.
    const error = runtimeError('Runtime.UnhandledPromiseRejection', safeString(reason), isErrorLike(reason) ? reason : undefined);
    onFatalError('Unhandled Promise Rejection', error, EXIT_UNHANDLED_REJECTION);
  });
  // The event loop drained while the handler never completed (no callback call, or a promise that can
  // never settle). Like the official runtime: callback/sync handlers succeed with null, promises fail.
  process.on('beforeExit', () => {
    if (!current || current.completed) return;
    if (current.returnedPromise) {
      current.complete({ ok: false, error: runtimeError('Runtime.NodeJsExit', 'Error: Runtime exited without providing a reason') });
    } else {
      current.complete({ ok: true, value: null });
    }
  });
}

// ----------------------------------------------------------------------- Main

async function main() {
  patchConsole();
  installProcessHooks();

  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || '', process.env.LAMBDA_TASK_ROOT || process.cwd());
  } catch (err) {
    logError('Uncaught Exception', err);
    await postError('/init/error', err);
    process.exit(1);
  }
  initialized = true;

  for (;;) await runNextInvocation(handler);
}

main().catch((err) => {
  // Only Runtime API failures get here (handler errors are reported per invocation).
  process.stderr.write(`Lamina runtime failure: ${err && err.stack || err}\n`);
  process.exit(1);
});
