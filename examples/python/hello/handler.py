"""The README's first function: greets the caller and counts warm invocations.

Module-level state survives between invocations of one warm sandbox, as on Lambda.
"""
import os

invocations = 0


def handler(event, context):
    global invocations
    invocations += 1
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    print(f"greeting {name}")
    return {
        "message": f"Hello, {name}!",
        "invocations": invocations,
        "requestId": context.aws_request_id,
        "function": context.function_name,
        "memoryMb": context.memory_limit_in_mb,
        "runtime": os.environ.get("AWS_EXECUTION_ENV"),
    }
