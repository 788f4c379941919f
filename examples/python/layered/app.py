"""Uses a module that only a layer provides (examples/layers/python-greeting)."""
import greeting


def handler(event, context):
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    return {"message": greeting.greet(name), "source": greeting.SOURCE, "module": greeting.__file__}
