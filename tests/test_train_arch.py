"""The tiny smoke model exists for every architecture the embedded trainer accepts."""
import pytest
import torch
from transformers import AutoModelForCausalLM

from cardrepro import data
from cardrepro.train import config as config_mod
from cardrepro.train import model as model_mod


class _Tok:
    pad_token_id, eos_token_id, bos_token_id = 0, 1, 2

    def __len__(self):
        return 300


@pytest.mark.parametrize("arch", config_mod.ARCHITECTURES)
def test_tiny_model_of_each_architecture(arch):
    cfg = {"architecture": arch, "tokenizer": {"resize_multiple": 16},
           "smoke": {"max_length": 64, "model": {"hidden_size": 32, "num_layers": 2, "num_heads": 4, "intermediate_size": 64}}}
    conf = model_mod.tiny_config(cfg, _Tok())
    assert conf.model_type == arch and conf.vocab_size == 304
    model = AutoModelForCausalLM.from_config(conf)
    out = model(input_ids=torch.tensor([[3, 4, 5, 6]]), labels=torch.tensor([[3, 4, 5, 6]]))
    assert out.logits.shape == (1, 4, 304) and torch.isfinite(out.loss)
    # LoRA targets: the build's default (build_defaults.yaml) is PEFT's, which a config without
    # target_modules gets from PEFT itself
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as peft_targets
    by_arch = data.load("build_defaults")["lora"]["target_modules"]["by_architecture"]
    assert arch in by_arch and list(by_arch[arch]) == list(peft_targets[arch])
