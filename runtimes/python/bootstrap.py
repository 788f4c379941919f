"""Lamina Python runtime bootstrap.

Started as `python3 -u -S bootstrap.py` inside a function sandbox. Imports the
handler named by _HANDLER from LAMBDA_TASK_ROOT, then loops over the AWS Lambda
Runtime API 2018-06-01 at AWS_LAMBDA_RUNTIME_API:
  GET /runtime/invocation/next -> handler(event, context) -> POST .../<id>/response|error
Load failures go to POST /runtime/init/error, after which the process exits 1.

Behaviour follows the official Python runtime (awslambdaric) where users can
observe it: error payloads and error types, the `[ERROR] ...` log record, the
`[LEVEL]\\t<time>\\t<request id>\\t<message>` logging format, the context object.
Known differences:
 - A missing handler function fails init (Runtime.HandlerNotFound on
   /init/error) instead of failing every invocation.
 - No response streaming, no JSON log format, no AWS_LAMBDA_LOG_LEVEL.

Cold start: besides built-in modules only `json` and `os` are imported up
front. The socket client uses the C module `_socket` (socket.py would add
enum/selectors, ~2 ms); `traceback` is imported only when an error is
formatted. `logging` costs ~12 ms to import, so the Lambda log handler is
installed only once user code imports it, noticed by a stand-in for
builtins.__import__ that removes itself at that point (see _import_hook).
"""
import _socket
import builtins
import json
import os
import sys
import time

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
JSON_CONTENT = ("Content-Type", "application/json")

# ------------------------------------------------------------------ HTTP client


class HttpConnection:
    """A minimal HTTP/1.1 client over one keep-alive connection: the runtime never
    has two requests in flight, so one socket and no timeout (/next long-polls)."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.address = (host.strip("[]"), int(port))  # [::1]:9001 is an IPv6 literal
        self.host_header = address
        self.sock = None
        self.buf = bytearray()  # received but not yet consumed

    def request(self, method, path, body=b"", headers=()):
        """Returns (status, headers with lower-case names, body bytes)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers]
        if method != "GET":
            lines.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):
            try:
                if self.sock is None:
                    self._connect()
                self.sock.sendall(data)
                status, response_headers = self._read_head()
                break
            except (OSError, EOFError):
                # The server may have dropped the kept-alive connection: reconnect once.
                self.close()
                if attempt == 2:
                    raise
        response_body = self._read_body(status, response_headers)
        if "close" in response_headers.get("connection", "").lower():
            self.close()
        return status, response_headers, response_body

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.buf.clear()

    def _connect(self):
        host, port = self.address
        error = None
        # A bytes host: given a str, getaddrinfo imports the idna codec (~1 ms) to encode it.
        for family, kind, proto, _, sockaddr in _socket.getaddrinfo(host.encode(), port, 0, _socket.SOCK_STREAM):
            sock = _socket.socket(family, kind, proto)
            try:
                sock.connect(sockaddr)
            except OSError as e:
                sock.close()
                error = e
                continue
            # Small request/response pairs: Nagle's algorithm would only add latency.
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            self.sock = sock
            return
        raise error

    def _read_head(self):
        # No 1xx interim responses to skip: we never send "Expect: 100-continue".
        status = int(self._read_line().split(None, 2)[1])  # HTTP/1.1 202 Accepted
        headers = {}
        line = self._read_line()
        while line:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = _header_text(value.strip())
            line = self._read_line()
        return status, headers

    def _read_body(self, status, headers):
        if status in (204, 304):
            return b""  # never has a body, even without framing headers
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        if "content-length" in headers:
            return self._read_exact(int(headers["content-length"]))
        # Neither framing: the body runs until the server closes the connection.
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        body = bytes(self.buf)
        self.close()
        return body

    def _read_chunked(self):
        body = bytearray()
        while True:
            size = int(self._read_line().split(b";", 1)[0], 16)  # ignore chunk extensions
            if size == 0:
                break
            body += self._read_exact(size)
            self._read_line()  # the CRLF closing the chunk
        while self._read_line():
            pass  # trailer fields, up to the blank line
        return bytes(body)

    def _read_line(self):
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end]).rstrip(b"\r")
                del self.buf[:end + 1]
                return line
            self._fill()

    def _read_exact(self, size):
        while len(self.buf) < size:
            self._fill()
        data = bytes(self.buf[:size])
        del self.buf[:size]
        return data

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the Runtime API closed the connection")
        self.buf += chunk


def _header_text(raw):
    # Header JSON (client context) may carry UTF-8; anything else is read as Latin-1.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


# ------------------------------------------------------------------ Runtime API


class RuntimeApi:
    def __init__(self, address):
        self.http = HttpConnection(address)

    def next_invocation(self):
        """Blocks until the platform hands out an invocation; returns (headers, body)."""
        status, headers, body = self.http.request("GET", API_PREFIX + "/invocation/next")
        if status != 200:
            # 403/500 mean this environment is done for: exit and let the platform see it.
            self.http.close()
            sys.exit(f"GET /runtime/invocation/next answered {status}: {body[:500]!r}")
        return headers, body

    def post_response(self, request_id, payload):
        # 413: the payload is too large; the platform reports that to the caller itself.
        self._post(f"/invocation/{request_id}/response", payload, [JSON_CONTENT], also_expected=413)

    def post_error(self, path, error_type, payload):
        self._post(path, payload, [JSON_CONTENT, (ERROR_TYPE_HEADER, error_type)])

    def _post(self, path, payload, headers, also_expected=None):
        status, _, answer = self.http.request("POST", API_PREFIX + path, payload, headers)
        if not 200 <= status < 300 and status != also_expected:
            sys.stderr.write(f"POST /runtime{path} answered {status}: {answer[:500]!r}\n")


# ------------------------------------------------------------------ errors


class Fault(Exception):
    """A failure the runtime reports under a Runtime.* error type of its own."""

    def __init__(self, error_type, message, stack_trace=()):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = list(stack_trace)


def report_error(api, path, request_id, error_type, message, stack_trace=()):
    _log_error(error_type, message, stack_trace)
    payload = {"errorMessage": message, "errorType": error_type,
               "requestId": request_id, "stackTrace": list(stack_trace)}
    api.post_error(path, error_type, json.dumps(payload).encode())


def _log_error(error_type, message, stack_trace):
    # One record: the platform reads stdout line by line, so the record's inner newlines
    # become "\r", the separator the official runtime uses for its error records too.
    text = f"[ERROR] {error_type}: {message}" if message else f"[ERROR] {error_type}"
    text += "\nTraceback (most recent call last):\n" + "".join(stack_trace)
    sys.stdout.write(text.rstrip("\n").replace("\n", "\r") + "\n")


def _stack_trace(tb):
    """The traceback as Lambda reports it: traceback.format_list entries of the user's
    frames only (this file's and the import machinery's are dropped)."""
    import traceback
    # Plain tuples, not FrameSummary objects: Lambda's entries carry no ^^^ markers.
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)
              if f.filename != __file__ and not f.filename.startswith("<frozen importlib")]
    return traceback.format_list(frames)


# ------------------------------------------------------------------ handler loading


def load_handler(handler_name):
    try:
        module_path, function_name = handler_name.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler_name}': {e}") from None
    module_name = module_path.replace("/", ".")  # src/app.handler imports src.app
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault("Runtime.BuiltInModuleConflict",
                    f"Cannot use built-in module {module_path} as a handler module")
    try:
        __import__(module_name)
        module = sys.modules[module_name]
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError", f"Unable to import module '{module_path}': {e}") from None
    except SyntaxError as e:
        where = f'  File "{e.filename}" Line {e.lineno}\n    {(e.text or "").strip()}\n'
        raise Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_path}': {e}", [where]) from None
    except Exception as e:
        # Real Lambda reports an exception raised by module-level code under its own class name.
        raise Fault(type(e).__name__, str(e), _stack_trace(e.__traceback__)) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_path}'") from None


def setup_sys_path(task_root, opt):
    """Lambda's order: function code, then layers, then the standard library. The
    bootstrap's own directory is dropped so user code cannot import the runtime."""
    # Layers built for the function's runtime (AWS_EXECUTION_ENV=AWS_Lambda_python3.12) put
    # packages under python/lib/python3.12/site-packages; the host interpreter's own version
    # directory is searched too when it differs.
    runtime = os.environ.get("AWS_EXECUTION_ENV", "").replace("AWS_Lambda_", "")
    versions = [runtime] if runtime.startswith("python3.") else []
    own = f"python3.{sys.version_info.minor}"
    if own not in versions:
        versions.append(own)
    layers = [f"{opt}/python/lib/{v}/site-packages" for v in versions] + [f"{opt}/python"]
    own_dir = os.path.dirname(os.path.realpath(__file__))
    rest = [p for p in sys.path if os.path.realpath(p) != own_dir]
    sys.path[:] = [task_root] + [p for p in layers if os.path.isdir(p)] + rest


# ------------------------------------------------------------------ logging

_current_request_id = ""  # stamped on log records; "" during init, like Lambda
_logging_installed = False
_real_import = builtins.__import__


def _import_hook(name, globals=None, locals=None, fromlist=(), level=0):
    """Stands in for __import__ until the first absolute import of `logging`
    returns, so the Lambda handler is on the root logger before user code can call
    logging.basicConfig (a no-op on Lambda, since the root logger has a handler)."""
    module = _real_import(name, globals, locals, fromlist, level)
    if level == 0 and name.partition(".")[0] == "logging":
        install_lambda_logging()
    return module


def install_lambda_logging():
    global _logging_installed
    if _logging_installed:
        return
    _logging_installed = True
    if builtins.__import__ is _import_hook:
        builtins.__import__ = _real_import
    import logging
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(_stamp_request_id)
    logging.getLogger().addHandler(handler)  # the root level stays WARNING, as on Lambda


def _stamp_request_id(record):
    record.aws_request_id = _current_request_id
    return True


# ------------------------------------------------------------------ context


class LambdaContext:
    """The handler's `context`; names and types follow the official runtime."""

    def __init__(self, settings, request_id, headers):
        self.__dict__.update(settings)  # function_name, memory_limit_in_mb, ... (see function_settings)
        self.aws_request_id = request_id
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)
        self.identity = CognitoIdentity(_json_header(headers, "lambda-runtime-cognito-identity") or {})
        client_context = _json_header(headers, "lambda-runtime-client-context")
        self.client_context = ClientContext(client_context) if client_context is not None else None

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message):
        sys.stdout.write(str(message))


class CognitoIdentity:
    def __init__(self, data):
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")


class ClientContext:
    def __init__(self, data):
        client = data.get("client")
        self.client = ClientInfo(client) if isinstance(client, dict) else client
        self.custom = data.get("custom")
        self.env = data.get("env")


class ClientInfo(dict):
    """`client_context.client`: the JSON object, whose keys also read as attributes
    (installation_id, app_title, ...) like the official runtime's Client; absent ones are None."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get(name)


def _json_header(headers, name):
    raw = headers.get(name)
    value = json.loads(raw) if raw else None
    return value if isinstance(value, dict) else None


def function_settings():
    env = os.environ
    return {
        "function_name": env.get("AWS_LAMBDA_FUNCTION_NAME"),
        "function_version": env.get("AWS_LAMBDA_FUNCTION_VERSION"),
        "memory_limit_in_mb": int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or 0),
        "log_group_name": env.get("AWS_LAMBDA_LOG_GROUP_NAME"),
        "log_stream_name": env.get("AWS_LAMBDA_LOG_STREAM_NAME"),
    }


# ------------------------------------------------------------------ invocations


def handle_invocation(api, handler, settings, headers, body):
    global _current_request_id
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    _current_request_id = request_id
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    if not _logging_installed and "logging" in sys.modules:
        install_lambda_logging()  # imported some way that bypassed __import__ (importlib)
    error_path = f"/invocation/{request_id}/error"
    try:
        event = json.loads(body) if body else {}
        context = LambdaContext(settings, request_id, headers)
    except ValueError as e:
        return report_error(api, error_path, request_id, "Runtime.UnmarshalError", f"Unable to unmarshal input: {e}")
    try:
        result = handler(event, context)
    except Exception as e:  # SystemExit and KeyboardInterrupt end the process
        return report_error(api, error_path, request_id, type(e).__name__, str(e), _stack_trace(e.__traceback__))
    try:
        payload = json.dumps(result, default=_json_default).encode()
    except Exception as e:
        return report_error(api, error_path, request_id, "Runtime.MarshalError", f"Unable to marshal response: {e}")
    api.post_response(request_id, payload)


def _json_default(value):
    # Like the official runtime, Decimals (as boto3 returns from DynamoDB) become JSON numbers.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def main():
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    # Where the layers are: /opt in a sandbox; the launcher names another directory when the
    # process runs without its own mount namespace.
    opt = sys.argv[1] if len(sys.argv) > 1 else "/opt"
    del sys.argv[1:]
    setup_sys_path(task_root, opt)
    api = RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    builtins.__import__ = _import_hook
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Fault as fault:
        report_error(api, "/init/error", "", fault.error_type, fault.message, fault.stack_trace)
        sys.exit(1)
    settings = function_settings()
    while True:
        headers, body = api.next_invocation()
        handle_invocation(api, handler, settings, headers, body)


if __name__ == "__main__":
    main()
