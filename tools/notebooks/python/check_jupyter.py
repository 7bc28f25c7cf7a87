"""Probe for `deno task notebooks`: can this Python run Jupyter, and which Deno kernel is there?

Imports nbconvert and nbclient (a failure exits non-zero: Jupyter is missing), then prints one
JSON line on stdout: the `deno` kernelspec's argv (its first item is the deno binary), or null
when no such kernel is installed.
"""
import json
import nbconvert, nbclient
from jupyter_client.kernelspec import KernelSpecManager
spec = KernelSpecManager().get_all_specs().get("deno")
print(json.dumps(spec and spec["spec"]["argv"]))
