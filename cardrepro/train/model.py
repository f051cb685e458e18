"""Models. --smoke: a tiny randomly initialised model of the card's architecture (bloom, gpt_neox,
llama, mistral, qwen2). --full: from_pretrained(base_model). Embeddings resized to a multiple of 16 (OA). With
`quantization` (bitsandbytes 8/4-bit via quantization_config=) and/or `peft` (LoRA): the base is
loaded quantized, prepared with prepare_model_for_kbit_training, wrapped with LoRA; only adapter
parameters train."""
import math



def padded_vocab(n, multiple):
    return int(math.ceil(n / multiple) * multiple)


def tiny_config(cfg, tokenizer):
    from transformers import AutoConfig, BloomConfig, GPTNeoXConfig

    m = cfg["smoke"]["model"]
    arch = cfg["architecture"]
    vocab = padded_vocab(len(tokenizer), cfg["tokenizer"].get("resize_multiple") or 16)
    ids = dict(pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
               bos_token_id=tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id)
    max_pos = max(512, int(cfg["smoke"]["max_length"]))
    if arch == "bloom":
        return BloomConfig(vocab_size=vocab, hidden_size=m["hidden_size"], n_layer=m["num_layers"], n_head=m["num_heads"],
                           hidden_dropout=0.0, attention_dropout=0.0, **ids)
    if arch == "gpt_neox":
        return GPTNeoXConfig(vocab_size=vocab, hidden_size=m["hidden_size"], num_hidden_layers=m["num_layers"],
                             num_attention_heads=m["num_heads"], intermediate_size=m["intermediate_size"],
                             rotary_pct=0.25, max_position_embeddings=max_pos, use_parallel_residual=True,
                             hidden_dropout=0.0, attention_dropout=0.0, tie_word_embeddings=False, **ids)
    # llama and its descendants (mistral, qwen2) share these argument names
    return AutoConfig.for_model(arch, vocab_size=vocab, hidden_size=m["hidden_size"], num_hidden_layers=m["num_layers"],
                                num_attention_heads=m["num_heads"], num_key_value_heads=m["num_heads"],
                                intermediate_size=m["intermediate_size"], max_position_embeddings=max_pos, **ids)


def create_tiny(cfg, tokenizer, out_dir, seed):
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(tiny_config(cfg, tokenizer))
    model.save_pretrained(out_dir)
    return model


def quant_config(q):
    import torch
    from transformers import BitsAndBytesConfig

    keys = ("load_in_8bit", "load_in_4bit", "llm_int8_threshold", "llm_int8_skip_modules",
            "llm_int8_enable_fp32_cpu_offload", "llm_int8_has_fp16_weight", "bnb_4bit_quant_type",
            "bnb_4bit_use_double_quant")
    kw = {k: q[k] for k in keys if k in q and q[k] is not None}
    if kw.get("load_in_8bit"):
        kw = {k: v for k, v in kw.items() if not k.startswith("bnb_4bit")}
    if q.get("load_in_4bit"):
        kw["bnb_4bit_compute_dtype"] = getattr(torch, str(q.get("bnb_4bit_compute_dtype") or "float32"))
    return BitsAndBytesConfig(**kw)


def load_base(cfg, model_path, tokenizer, dtype, on_cpu):
    """(base model, quantized?): quantized when the config asks, embeddings resized to the
    tokenizer padded to the trainer's multiple (the training and the inference load)."""
    from transformers import AutoModelForCausalLM

    q = cfg.get("quantization")
    kw = {}
    if q and (q.get("load_in_8bit") or q.get("load_in_4bit")):
        kw["quantization_config"] = quant_config(q)
        kw["device_map"] = "cpu" if on_cpu else "auto"
    elif dtype is not None:
        kw["dtype"] = dtype
    model = AutoModelForCausalLM.from_pretrained(str(model_path), **kw)
    target = padded_vocab(len(tokenizer), cfg["tokenizer"].get("resize_multiple") or 16)
    if model.get_input_embeddings().weight.shape[0] != target:
        model.resize_token_embeddings(target)
    return model, "quantization_config" in kw


def load(cfg, model_path, tokenizer, dtype, gradient_checkpointing, on_cpu):
    """The model to train: base (quantized when asked), embeddings resized, LoRA when asked."""
    model, quantized = load_base(cfg, model_path, tokenizer, dtype, on_cpu)
    if quantized:
        from peft import prepare_model_for_kbit_training
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=bool(gradient_checkpointing))
    p = cfg.get("peft")
    if p:
        from peft import LoraConfig, get_peft_model
        lora = LoraConfig(r=int(p.get("r", 8)), lora_alpha=int(p.get("lora_alpha", 16)),
                          lora_dropout=float(p.get("lora_dropout", 0.0) or 0.0),
                          target_modules=p.get("target_modules"),  # None: PEFT's default for the architecture
                          bias=p.get("bias", "none"), task_type="CAUSAL_LM")
        model = get_peft_model(model, lora)
    return model


def count_params(model):
    n = lambda p: getattr(p, "ds_numel", None) or p.numel()   # ZeRO-3 partitions: local numel is 0
    total = sum(n(p) for p in model.parameters())
    trainable = sum(n(p) for p in model.parameters() if p.requires_grad)
    return total, trainable
