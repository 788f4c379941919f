"""A library shipped as a layer: Lambda puts /opt/python on sys.path."""

SOURCE = "python-greeting layer"


def greet(name):
    return f"Hello, {name}, from the {SOURCE}!"
