"""`cardrepro run --packing` is a speed-up, not a different experiment: same per-step losses."""
import json

from conftest import ROOT, run_cli


def _losses(run_dir):
    return [json.loads(l)["loss"] for l in (run_dir / "metrics.jsonl").read_text().splitlines() if '"loss"' in l]


def test_packing_gives_the_faithful_losses(tmp_path):
    project = ROOT / "generated" / "ziya-llama-13b-v1"
    for name, extra in (("faithful", []), ("packed", ["--packing"])):
        res = run_cli("run", project, "--smoke", "--max-steps", "5", "--output", tmp_path / name, *extra, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
    faithful, packed = _losses(tmp_path / "faithful"), _losses(tmp_path / "packed")
    assert len(faithful) == 5 and len(packed) == 5
    assert max(abs(a - b) for a, b in zip(faithful, packed)) < 1e-4
    resolved = json.loads((tmp_path / "packed" / "resolved_config.json").read_text())
    assert any("padding-free" in n for n in resolved["notices"])
