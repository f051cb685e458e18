"""The embedded SFT trainer: `cardrepro run` / `cardrepro infer` on a built project folder.

Small modules, read top to bottom (torchtune recipes / nanoGPT style):
config -> registry -> loaders -> options -> format -> tokenizer -> data -> model -> train -> infer.
Only this package imports torch / transformers / datasets / peft / deepspeed / bitsandbytes,
and only inside functions, so importing `cardrepro.commands.run` stays cheap.
"""
import logging

# bitsandbytes warns at import, on CPUs with AVX512-BF16, that an optional `kernels` package is missing;
# that line must not precede a one-line error (exit 2) of `run`/`infer`.
logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
