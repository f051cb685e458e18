"""Data files are served from a marshalled cache: equal to the YAML, never stale after an edit,
and optional (a folder that cannot be written only means no cache)."""
from pathlib import Path

import pytest
import yaml

from cardrepro import data


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    monkeypatch.setattr(data, "CACHE_DIR", tmp_path / "__pycache__")
    data.load.cache_clear()
    yield tmp_path
    data.load.cache_clear()


def test_every_shipped_file_loads_as_its_yaml():
    for path in sorted(Path(data.__file__).parent.rglob("*.yaml")):
        name = str(path.relative_to(Path(data.__file__).parent))[: -len(".yaml")]
        data.load.cache_clear()
        assert data.load(name) == yaml.safe_load(path.read_text(encoding="utf-8")), name


def test_edit_is_never_served_stale(data_dir):
    (data_dir / "reg.yaml").write_text("a: 1\nkeys: {2048: x}\n", encoding="utf-8")
    assert data.load("reg") == {"a": 1, "keys": {2048: "x"}}
    assert len(list((data_dir / "__pycache__").glob("reg.*.marshal"))) == 1
    data.load.cache_clear()
    assert data.load("reg") == {"a": 1, "keys": {2048: "x"}}  # from the cache this time
    (data_dir / "reg.yaml").write_text("a: 2\n", encoding="utf-8")
    data.load.cache_clear()
    assert data.load("reg") == {"a": 2}
    assert len(list((data_dir / "__pycache__").glob("reg.*.marshal"))) == 1  # the old entry is gone


def test_values_marshal_cannot_hold_are_not_cached(data_dir):
    (data_dir / "dates.yaml").write_text("released: 2023-04-19\n", encoding="utf-8")
    assert str(data.load("dates")["released"]) == "2023-04-19"
    assert not list(data_dir.rglob("dates.*.marshal"))


def test_a_cache_folder_that_cannot_be_made_only_means_no_cache(data_dir, monkeypatch):
    (data_dir / "blocker").write_text("a file where the cache folder would go", encoding="utf-8")
    monkeypatch.setattr(data, "CACHE_DIR", data_dir / "blocker" / "__pycache__")
    (data_dir / "ro.yaml").write_text("b: [1, 2]\n", encoding="utf-8")
    assert data.load("ro") == {"b": [1, 2]}
