"""What every benchmark result records beside its numbers, and how it is written."""

import datetime
import importlib
import importlib.metadata
import json
import os
import pathlib
import platform
import shlex
import sys


def cpu_model():
    """The CPU's model name (``/proc/cpuinfo`` on Linux; ``platform.processor()`` elsewhere): step times of two
    x86_64 machines differ by up to 1.8x, so a result says which CPU measured it."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name") and line.split(":", 1)[-1].strip():
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_description():
    """The machine in words, as a shipped model's card names it: "2 CPU cores, <model>"."""
    return f"{os.cpu_count()} CPU cores, {cpu_model()}"


def machine_facts(backend):
    """Backend, versions (Keras, the backend's own library, Python), machine (architecture and CPU model), date
    and the exact command (shell-quoted: it pastes back into a shell)."""
    return {"backend": backend, "backend_version": importlib.import_module(backend).__version__,
            "keras": importlib.metadata.version("keras"), "python": platform.python_version(),
            "cpus": os.cpu_count(), "device": platform.processor() or platform.machine(), "cpu": cpu_model(),
            "date": datetime.date.today().isoformat(), "command": shlex.join(["python", *sys.argv])}


def write_result(path, report):
    """``report`` as indented JSON at ``path`` (folders made); printed for ``"-"``; nothing for None."""
    if path == "-":
        print(json.dumps(report, indent=2))
    elif path:
        pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
