"""What both benchmarks print: the machine they ran on and a plain text table."""
import os
import platform
import time
from pathlib import Path


def machine(**extra):
    """nproc, CPU model name (/proc/cpuinfo), Python version and date, plus `extra`."""
    cpu = "unknown"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), **extra,
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


def print_table(header, rows):
    """Left-aligned columns, a dashed rule under the header."""
    w = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, tuple("-" * x for x in w), *rows]:
        print("  ".join(str(x).ljust(w[i]) for i, x in enumerate(r)).rstrip())
