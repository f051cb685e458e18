"""Process launch. 1 process: in-process (DeepSpeed gets RANK/WORLD_SIZE/MASTER_* env vars so it
never tries mpi4py). --nproc N on CPU: torchrun with the gloo backend and DS_ACCELERATOR=cpu; on
GPUs with DeepSpeed: the deepspeed launcher."""
import json
import os
import subprocess
import sys

from cardrepro.train.train import free_port


def command(nproc, opts, on_gpu, use_deepspeed):
    payload = json.dumps(opts)
    port = str(free_port())
    if on_gpu and use_deepspeed:
        return [sys.executable, "-m", "deepspeed.launcher.runner", "--num_gpus", str(nproc), "--master_port", port,
                "--module", "cardrepro.train.worker", payload]
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_port", port,
            "-m", "cardrepro.train.worker", payload]


def run_multi(nproc, opts, on_gpu, use_deepspeed):
    env = dict(os.environ)
    if not on_gpu:
        env["DS_ACCELERATOR"] = "cpu"
        env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("PYTHONHASHSEED", "0")
    return subprocess.call(command(nproc, opts, on_gpu, use_deepspeed), env=env)
