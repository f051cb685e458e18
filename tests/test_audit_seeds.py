"""Audit of the four seed cards through the real parser, the CLI (exit codes, formats) and the
JSON schema."""
import json

import jsonschema
import pytest
from click.testing import CliRunner

from cardrepro.audit import audit_report, render_markdown
from cardrepro.commands.audit import audit
from cardrepro.spec import parse_card
from conftest import CARDS, ROOT, run_cli

SEEDS = ["bloom-zh-3b-sft", "bloomz-mona-lora", "stablelm-7b-sft", "ziya-llama-13b-v1"]
SCHEMA = json.loads((ROOT / "schemas" / "audit.schema.json").read_text())


@pytest.fixture(scope="module")
def reports():
    out = {}
    for name in SEEDS:
        path = CARDS / f"{name}.md"
        out[name] = audit_report(parse_card(str(path)))
    return out


def find(rep, code, **where):
    got = [f for f in rep["findings"] if f["code"] == code
           and all(v in f.get(k, "") if isinstance(f.get(k), str) else v in f.get(k, [])
                   for k, v in where.items())]
    assert got, (code, where, [(f["code"], f["message"][:60]) for f in rep["findings"]])
    return got


def test_bloom_zh_availability(reports):
    r = reports["bloom-zh-3b-sft"]
    ikala = find(r, "CR101", message="ikala")[0]
    assert ikala["severity"] == "error"
    assert 47 in ikala["lines"] and 59 in ikala["lines"]          # the mix entry and the card's note
    export = find(r, "CR102")[0]
    assert "OpenAssistant/oasst1" in export["action"] and 54 in export["lines"]
    ted = {tuple(f["paths"]) for f in find(r, "CR110")}
    assert len(ted) == 2                                          # both ted_trans_* pairs
    mts = find(r, "CR120")
    assert sorted(f["lines"][0] for f in mts) == [40, 43, 46]
    assert all(f["severity"] == "warning" for f in mts)
    lium = find(r, "CR131", message="LIUM/tedlium")[0]
    assert "ted_trans_en-ja" in lium["message"] and 16 in lium["lines"]
    find(r, "CR130", message="ShareGPT_Vicuna_unfiltered")


def test_bloom_zh_conflict_and_derived(reports):
    r = reports["bloom-zh-3b-sft"]
    epochs = find(r, "CR302", message="num_train_epochs")[0]
    assert epochs["severity"] == "info" and {35, 77} <= set(epochs["lines"])
    mem = find(r, "CR502")[0]
    assert "ZeRO-3" in mem["message"]
    assert {row["stage"] for row in mem["data"]["rows"]} == {3}
    params = find(r, "CR501")[0]
    assert params["data"]["params"] == 3_002_557_440


def test_stablelm(reports):
    r = reports["stablelm-7b-sft"]
    assert r["counts"]["error"] == 0
    rel = find(r, "CR310")[0]
    assert rel["data"]["lr_at_release"] == pytest.approx(1e-5 * 4000 / 15900)
    assert 110 in rel["lines"]
    world = find(r, "CR404")[0]
    assert world["data"]["world_size"] == 4
    assert find(r, "CR102")[0]["lines"] == [132, 136]
    path = find(r, "CR602")[0]
    assert path["lines"] == [114]
    lr = find(r, "CR203")[0]
    assert lr["severity"] == "info" and "oa-trainer-sft" in lr["message"]
    assert find(r, "CR121", message="vicuna")[0]["severity"] == "info"
    assert find(r, "CR220", message="oasst_export")


def test_ziya(reports):
    r = reports["ziya-llama-13b-v1"]
    internal = find(r, "CR101")
    assert sorted(f["lines"][0] for f in internal) == [50, 51]
    claim = find(r, "CR510")[0]
    assert claim["severity"] == "info"
    assert claim["data"]["days_6nd"] == pytest.approx(5.30, abs=0.01)
    assert claim["data"]["days_stated"] == 8
    assert find(r, "CR501")[0]["data"]["params"] == 13_091_742_720     # 39,410-token vocabulary
    assert find(r, "CR503")


def test_bloomz_lora(reports):
    r = reports["bloomz-mona-lora"]
    fam = find(r, "CR202")[0]
    assert "bigscience/bloomz-1b7" in fam["action"]
    for code in ("CR213", "CR214", "CR215", "CR216", "CR203", "CR205"):
        assert find(r, code)[0]["severity"] == "warning"
    lora = find(r, "CR504")[0]
    assert lora["data"]["fraction"] < 0.01 and "8-bit" in lora["message"]


def test_every_finding_has_lines_or_a_non_card_basis(reports):
    for rep in reports.values():
        for f in rep["findings"]:
            assert f["lines"] or any(b != "card" for b in f["basis"]), f
            assert f["action"] and "\n" not in f["message"]


def test_markdown_for_readme(reports):
    md = render_markdown(reports["stablelm-7b-sft"])
    assert "| CR310 |" in md and "Arithmetic" in md and "/home/ubuntu" not in md


# ----------------------------------------------------------------------------- CLI
def invoke_audit(*args):
    """`cardrepro audit ARGS` in-process (click's runner); the subprocess path is conftest.run_cli."""
    return CliRunner().invoke(audit, list(args), catch_exceptions=False)


def test_cli_exit_codes():
    stablelm = str(CARDS / "stablelm-7b-sft.md")
    assert invoke_audit(stablelm).exit_code == 0                      # no errors
    assert invoke_audit(stablelm, "--fail-on", "warning").exit_code == 1
    bloom = str(CARDS / "bloom-zh-3b-sft.md")
    assert invoke_audit(bloom).exit_code == 1                         # ikala
    assert invoke_audit(bloom, "--fail-on", "never").exit_code == 0


def test_cli_text_groups_and_verdict():
    res = invoke_audit(str(CARDS / "bloom-zh-3b-sft.md"), "--fail-on", "never")
    out = res.output
    assert out.index("Errors (") < out.index("Warnings (") < out.index("Info (")
    last = out.strip().splitlines()[-1]
    assert last.startswith("verdict: not reproducible") and "score" in last


def test_cli_json_all_seeds_validates():
    res = invoke_audit(*[str(CARDS / f"{n}.md") for n in SEEDS], "--format", "json", "--fail-on", "never")
    doc = json.loads(res.output)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert [r["name"] for r in doc["reports"]] == SEEDS
    assert [s["name"] for s in doc["summary"]] == SEEDS
    assert "/home/ubuntu" not in res.output


def test_schema_rejects_a_bad_report():
    bad = {"tool": "cardrepro", "version": "0", "reports": [{
        "card": None, "name": "x", "findings": [{"code": "XX1", "severity": "fatal"}],
        "counts": {"error": 0, "warning": 0, "info": 0}, "score": None, "verdict": "v"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(bad)


def test_cli_markdown_summary_table():
    res = invoke_audit(str(CARDS / "stablelm-7b-sft.md"), str(CARDS / "ziya-llama-13b-v1.md"),
                       "--format", "markdown", "--fail-on", "never")
    assert "## Summary" in res.output and "| `ziya-llama-13b-v1` |" in res.output


def test_cli_bad_input_exit_2(tmp_path):
    missing = tmp_path / "nope.md"
    proc = run_cli("audit", missing, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().startswith(f"{missing}:") and "Traceback" not in proc.stderr

