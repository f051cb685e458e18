"""Build step: spec (+ audit findings) -> a runnable project folder `generated/<name>/`.

    from cardrepro.project import build_project, render_project
    build_project("cards/stablelm-7b-sft.md")          # writes generated/stablelm-7b-sft/

Never imports torch, transformers or deepspeed."""
from cardrepro.project.project import build_project, render_project, write_project  # noqa: F401
