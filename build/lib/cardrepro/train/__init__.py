"""The embedded SFT trainer: `cardrepro run` / `cardrepro infer` on a built project folder.

Small modules, read top to bottom (torchtune recipes / nanoGPT style):
config -> registry -> loaders -> options -> format -> tokenizer -> data -> model -> train -> infer.
Only this package imports torch / transformers / datasets / peft / deepspeed / bitsandbytes,
and only inside functions, so importing `cardrepro.train.command` stays cheap.
"""
