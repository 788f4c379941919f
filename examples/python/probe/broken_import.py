"""A module whose import fails, as a user's typo would: Lambda reports Runtime.ImportModuleError."""
import this_module_does_not_exist  # noqa: F401


def handler(event, context):
    return "unreachable"
