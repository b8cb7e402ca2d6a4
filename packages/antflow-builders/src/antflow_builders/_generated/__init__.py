"""Code written by ``tools/generate_overloads.py``: the typed overloads. Do not edit.

Each module holds one class: the overloads of one method (``add()`` of either builder,
``Pipeline.quick()``) and its implementation, which hands the call to hand-written code.
The public classes subclass these; the hand-written code lives outside this folder.
"""
