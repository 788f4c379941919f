"""A no-op function: the benchmarks' measure of pure platform overhead."""


def handler(event, context):
    return {}
