"""`cardrepro audit --corpus`: a small parquet corpus built here from real cards (every other labelled real
card beside this checkout, and the seed cards) through the local Dask process pool and through a
2-worker `LocalCluster`, giving identical rows and summaries; a folder of the same cards; bad cards
as rows; the command's errors.

The LocalCluster runs its workers as processes (processes=True): a worker then has nothing of the
driver's but the partition it is sent, as on a cluster of machines, so a row that depended on the
driver's state would differ from the local pool's. It costs a few seconds of start-up."""
import datetime as dt
import subprocess
import sys

import pytest

from conftest import CARDS, ROOT, SEEDS, run_cli

REALCARDS = ROOT.parent / "shared" / "realcards" / "cards"
ROWS_PER_GROUP = 5          # several partitions, the last one short
BAD = {"org/empty": "", "org/nul": "# a card\n\x00 binary\n", "org/none": None}


def real_cards():
    if not REALCARDS.is_dir():
        pytest.skip(f"the real cards are not beside this checkout ({REALCARDS})")
    paths = sorted(REALCARDS.glob("*.md"))[::2] + [CARDS / f"{s}.md" for s in SEEDS]   # [::2]: a short test
    return {f"org{i % 3}/{p.stem}": p.read_text(encoding="utf-8") for i, p in enumerate(paths)}


def records():
    """The rows of librarian-bots/model_cards_with_metadata's layout, a year and a library each."""
    out = []
    for i, (model_id, text) in enumerate({**real_cards(), **BAD}.items()):
        out.append({"modelId": model_id, "author": model_id.split("/")[0], "last_modified": dt.datetime(2024, 5, 1),
                    "downloads": 1000 - i, "likes": i, "library_name": [None, "transformers", "peft"][i % 3],
                    "tags": ["text-generation"], "pipeline_tag": "text-generation",
                    "createdAt": dt.datetime(2021 + i % 4, 1 + i % 12, 3), "card": text})
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    import pyarrow as pa
    import pyarrow.parquet as pq
    folder = tmp_path_factory.mktemp("corpus")
    recs = records()
    pq.write_table(pa.Table.from_pylist(recs), folder / "part-0.parquet", row_group_size=ROWS_PER_GROUP)
    return folder, recs


def audit_corpus(corpus_path, out, *args):
    res = run_cli("audit", "--corpus", corpus_path, "--out", out, *args, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return res


def read_rows(path):
    import pyarrow.parquet as pq
    return pq.read_table(path).to_pylist()


@pytest.fixture(scope="module")
def local_run(corpus, tmp_path_factory):
    folder, _ = corpus
    out = tmp_path_factory.mktemp("local") / "rows.parquet"
    res = audit_corpus(folder, out, "--workers", "2")
    return out, res


def test_local_pool_writes_a_row_per_card_in_corpus_order(corpus, local_run):
    _, recs = corpus
    out, res = local_run
    rows = read_rows(out)
    assert [r["id"] for r in rows] == [r["modelId"] for r in recs]
    assert f"{len(recs)} cards, {len(recs)} rows:" in res.stdout
    assert "100%" in res.stderr and "card" in res.stderr        # the progress bar
    by_id = {r["id"]: r for r in rows}
    seed = by_id[next(k for k in by_id if k.endswith("/stablelm-7b-sft"))]
    assert seed["outcome"] == "parsed" and {"DeepSpeed", "command", "base model"} <= set(seed["families"])
    assert 0 <= seed["score"] <= 100 and seed["findings"] == sorted(set(seed["findings"])) and seed["findings"]
    for rec in recs:
        row = by_id[rec["modelId"]]
        assert row["year"] == str(rec["createdAt"].year)
        if rec["library_name"]:
            assert row["library_name"] == rec["library_name"]
    assert sum(r["outcome"] == "parsed" for r in rows) >= len(real_cards()) - 2


def test_a_bad_card_is_a_row_and_the_run_goes_on(local_run):
    out, _ = local_run
    by_id = {r["id"]: r for r in read_rows(out)}
    assert by_id["org/empty"]["outcome"] == "refused" and by_id["org/empty"]["refusal"] == "empty card"
    assert by_id["org/none"]["refusal"] == "empty card"
    assert by_id["org/nul"]["outcome"] == "refused" and by_id["org/nul"]["refusal"] == "binary content"
    assert all(by_id[k]["families"] == [] and by_id[k]["score"] is None for k in BAD)


def test_two_worker_local_cluster_gives_identical_rows_and_summary(corpus, local_run, tmp_path):
    from distributed import LocalCluster
    folder, _ = corpus
    out = tmp_path / "rows.parquet"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        audit_corpus(folder, out, "--scheduler", cluster.scheduler_address)
    local_out, _ = local_run
    assert read_rows(out) == read_rows(local_out)
    assert out.with_suffix(".md").read_bytes() == local_out.with_suffix(".md").read_bytes()
    plots = sorted(local_out.with_suffix("").iterdir())      # drawn by the local pool's workers, here by this process
    assert len(plots) == 8
    for plot in plots:
        assert (out.with_suffix("") / plot.name).read_bytes() == plot.read_bytes(), plot.name


def test_summary_by_library_year_and_findings(corpus, local_run):
    _, recs = corpus
    out, _ = local_run
    md = out.with_suffix(".md").read_text(encoding="utf-8")
    rows = read_rows(out)
    assert f"Corpus `{corpus[0].name}`: {len(recs)} cards" in md and "other exceptions: 0." in md
    library = md.split("## By `library_name`")[1].split("## By year")[0]
    assert "| peft |" in library and "| transformers |" in library
    years = md.split("## By year")[1].split("## Most common findings")[0]
    for year in ("2021", "2022", "2023", "2024"):
        assert f"\n| {year} | " in years
    # the most common finding's count is the number of parsed rows carrying it
    findings = md.split("## Most common findings")[1].split("## Refused cards")[0]
    code, n = next((l.split("|")[1].strip(), l.split("|")[3].strip()) for l in findings.splitlines() if l.startswith("| CR"))
    assert int(n) == sum(code in r["findings"] for r in rows)
    assert "| empty card | 2 |" in md
    for stem in ("families", "by_library", "by_year", "findings"):
        assert f"]({out.with_suffix('').name}/{stem}.svg)" in md
        assert (out.with_suffix("") / f"{stem}.png").stat().st_size > 1000


def test_a_folder_of_cards_gives_the_same_audit_as_parquet(corpus, local_run, tmp_path):
    _, recs = corpus
    folder = tmp_path / "cards"
    folder.mkdir()
    texts = {r["modelId"].split("/")[1]: r["card"] for r in recs if r["card"] is not None}
    for name, text in texts.items():
        (folder / f"{name}.md").write_bytes(text.encode("utf-8"))
    (folder / "a-folder.md").mkdir()                                # not a card: a refused row
    out = tmp_path / "rows.parquet"
    audit_corpus(folder, out, "--workers", "1")
    rows = {r["id"]: r for r in read_rows(out)}
    assert sorted(rows) == sorted([*texts, "a-folder"])
    assert rows["a-folder"]["outcome"] == "refused" and "directory" in rows["a-folder"]["refusal"]
    assert {r["year"] for r in rows.values()} == {"unknown"}
    same = ("sha256", "outcome", "families", "score", "findings", "refusal", "error")
    for r in read_rows(local_run[0]):
        name = r["id"].split("/")[1]
        if name in rows:
            assert {k: rows[name][k] for k in same} == {k: r[k] for k in same}, name
    fronted = [n for n, t in texts.items() if t.startswith("---") and "\nlibrary_name: peft" in t.split("\n---", 1)[0]]
    assert fronted and all(rows[n]["library_name"] == "peft" for n in fronted)


def test_corpus_errors_are_one_line_exit_2(tmp_path):
    res = run_cli("audit", "--corpus", tmp_path / "nowhere")
    assert res.returncode == 2 and res.stderr.strip().startswith(f"{tmp_path / 'nowhere'}:0: no such corpus")
    res = run_cli("audit", "--corpus", tmp_path)
    assert res.returncode == 2 and "not a corpus" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = run_cli("audit", CARDS / "stablelm-7b-sft.md", "--corpus", tmp_path)
    assert res.returncode == 2 and "not both" in res.stderr


def test_plain_audit_never_loads_dask():
    code = ("import sys\nfrom cardrepro.cli import main\n"
            f"try:\n    main(['audit', {str(CARDS / 'stablelm-7b-sft.md')!r}, '--fail-on', 'never'])\n"
            "except SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('dask', 'distributed', 'pyarrow', 'matplotlib') if m in sys.modules))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert "LOADED []" in res.stdout, res.stdout[-1000:] + res.stderr[-1000:]


def test_front_matter_library_reads_only_the_front_matter():
    from cardrepro.coverage import front_matter_library
    crlf = "---\r\n" + "".join(f"key{i}: value {i}\r\n" for i in range(300)) + "---\r\n# card\r\n"
    assert front_matter_library(crlf.encode()) is None          # a long CRLF header: no backtracking blow-up
    assert front_matter_library(b"\xef\xbb\xbf---\nlicense: mit\nlibrary_name: 'peft' # adapter\n---\n") == "peft"
    assert front_matter_library(b"---\nlicense: mit\n---\nlibrary_name: peft\n") is None
    assert front_matter_library(b"# no front matter\nlibrary_name: peft\n") is None


def test_corpus_bench_times_one_process_after_a_warm_up_on_other_cards(tmp_path):
    """bench/corpus_dask.py's per-core figure is steady state: WARM_UP cards outside the sample go
    through card_row first, and the timed pass is the sample's, each card once."""
    import importlib.util
    import shutil
    spec = importlib.util.spec_from_file_location("corpus_dask", ROOT / "bench" / "corpus_dask.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for s in SEEDS:
        shutil.copyfile(CARDS / f"{s}.md", tmp_path / f"{s}.md")
    (tmp_path / "zz-empty.md").write_text("")
    names = sorted(p.name for p in tmp_path.glob("*.md"))
    sample = sorted(tmp_path.glob("*.md"))[::2]
    warm = bench.warm_up_cards(tmp_path, 2)
    assert [p.name for p in warm] == names[1::2][:bench.WARM_UP] and not set(warm) & set(sample)
    assert [p.name for p in bench.warm_up_cards(tmp_path, 1)] == names[:bench.WARM_UP]
    wall, cpu, outcomes = bench.in_process(sample, warm)
    assert len(outcomes) == len(sample) and wall > 0 and cpu > 0
    assert outcomes == ["parsed", "parsed", "refused"]      # the empty card is the sample's last


@pytest.mark.parametrize("filler", [4061, 4070, 4083, 4084, 4085, 4086, 4100])
def test_front_matter_library_past_the_first_4_kib(filler):
    """The head is decoded first: a front matter that runs past it, a line or a character cut at
    its end, is read as from the whole card."""
    from cardrepro.coverage import front_matter_library
    long_value = b"---\ndescription: " + b"x" * filler + b"\r\nlibrary_name: peft\n---\n" + b"# card\n" * 2000
    assert front_matter_library(long_value) == "peft"
    cut_char = b"---\nk: " + "é".encode() * (filler // 2) + "\u2028".encode() + b"library_name: diffusers\n---\n"
    assert front_matter_library(cut_char) == "diffusers"        # U+2028 ends a line, as splitlines has it
    many_lines = b"---\n" + b"k: v\n" * 200 + b"library_name: late\n---\n"
    assert front_matter_library(many_lines + b"x" * filler) is None       # past the first 200 lines
    assert front_matter_library(b"---\n" + b"k: v\n" * 199 + b"library_name: in\n---\n" + b"x" * filler) == "in"
