"""The audit's model-state memory against DeepSpeed's own estimator functions (the only audit
test that imports deepspeed)."""
import contextlib
import io
import os

import pytest

from cardrepro.estimate import memory as M
from cardrepro.audit.context import model_config

os.environ.setdefault("DS_ACCELERATOR", "cpu")
import deepspeed.runtime.zero.stage3 as stage3  # noqa: E402
import deepspeed.runtime.zero.stage_1_and_2 as stage12  # noqa: E402

MODELS = ["stabilityai/stablelm-base-alpha-7b", "ckip-joint/bloom-3b-zh", "LLaMA-13B",
          "bigscience/bloomz-560m"]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("world", [1, 4, 8, 160])
def test_zero2_matches_deepspeed(name, world):
    bd = M.param_breakdown(model_config(name)[1])
    n = bd["total"]
    for offload in (False, True):
        _, ds_gpu = stage12.estimate_zero2_model_states_mem_needs(n, num_gpus_per_node=world, num_nodes=1,
                                                                 cpu_offload=offload)
        ours = M.model_states(n, 2, world, offload_optimizer=offload)
        assert ours["total"] == pytest.approx(ds_gpu, abs=1), (name, world, offload)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("world", [1, 8, 160])
def test_zero3_matches_deepspeed(name, world):
    bd = M.param_breakdown(model_config(name)[1])
    n, largest = bd["total"], bd["largest_layer"]
    for oo, op in ((False, False), (True, False), (True, True)):
        _, ds_gpu, ds_largest = stage3.estimate_zero3_model_states_mem_needs(
            n, largest, num_gpus_per_node=world, num_nodes=1, cpu_offload=oo, cpu_offload_params=op)
        ours = M.model_states(n, 3, world, offload_optimizer=oo, offload_params=op,
                              largest_layer_params=largest)
        assert ours["buffer"] == ds_largest
        assert ours["total"] == pytest.approx(ds_gpu, abs=1), (name, world, oo, op)


def test_printed_table_of_the_cold_estimator_agrees():
    """The `_all_cold` helper prints a table; its ZeRO-3 no-offload GB figure equals ours."""
    bd = M.param_breakdown(model_config("LLaMA-13B")[1])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        stage3.estimate_zero3_model_states_mem_needs_all_cold(bd["total"], bd["largest_layer"],
                                                              num_gpus_per_node=8, num_nodes=1)
    ours = M.model_states(bd["total"], 3, 8, largest_layer_params=bd["largest_layer"])["total"]
    gib = f"{ours / 2**30:.2f}GB"
    assert gib in buf.getvalue().replace(" ", ""), buf.getvalue()
