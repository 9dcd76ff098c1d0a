"""``write_explanations`` replaces only its own previous output, and safely."""

import json
from pathlib import Path

import pytest

from training.explanation import _writing, is_explain_output, write_explanations

CONTEXT = {"data": "test", "seed": 0}


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _unrelated(folder: Path) -> dict[str, bytes]:
    (folder / "data").mkdir(parents=True)
    (folder / "notes.txt").write_text("keep me")
    (folder / "data" / "cohort.csv").write_text("a,b\n1,2\n")
    (folder / "index.html").write_text("<p>a web page, not an explain output</p>")
    return _files(folder)


def test_writes_a_new_folder_and_refuses_an_existing_one_without_force(
    tmp_path: Path,
) -> None:
    out = write_explanations([], tmp_path / "a" / "explain", context=CONTEXT)
    assert out == (tmp_path / "a" / "explain").resolve()
    assert is_explain_output(out)
    assert json.loads((out / "summary.json").read_text())["context"] == CONTEXT
    with pytest.raises(FileExistsError, match="--force"):
        write_explanations([], out, context=CONTEXT)
    assert [p.name for p in out.parent.iterdir()] == ["explain"]


def test_force_refuses_a_folder_that_is_not_an_explain_output(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    before = _unrelated(reports)
    (tmp_path / "sibling.txt").write_text("untouched")
    with pytest.raises(ValueError, match="not a previous `rediscover explain`") as e:
        write_explanations([], reports, context=CONTEXT, force=True)
    assert str(reports.resolve()) in str(e.value)
    assert _files(reports) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "sibling.txt"]


def test_force_refuses_a_file(tmp_path: Path) -> None:
    out = tmp_path / "summary"
    out.write_text("a file")
    with pytest.raises(ValueError, match="not a previous"):
        write_explanations([], out, context=CONTEXT, force=True)
    assert out.read_text() == "a file"


def test_force_replaces_a_previous_output(tmp_path: Path) -> None:
    out = write_explanations([], tmp_path / "explain", context=CONTEXT)
    (out / "stale.png").write_bytes(b"old")
    (tmp_path / "other.txt").write_text("untouched")
    again = write_explanations([], out, context={**CONTEXT, "seed": 1}, force=True)
    assert again == out
    assert not (out / "stale.png").exists()
    assert json.loads((out / "summary.json").read_text())["context"]["seed"] == 1
    # Neither the staging nor the renamed-aside folder is left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["explain", "other.txt"]


@pytest.mark.parametrize("where", [".", ".."])
def test_force_refuses_the_working_directory_or_a_folder_containing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # Even a previous output is not replaced while it holds the working directory.
    out = write_explanations([], tmp_path / "explain", context=CONTEXT)
    inside = out / "braf"
    inside.mkdir()
    monkeypatch.chdir(inside)
    target = out if where == ".." else inside
    if where == ".":
        # Make the working directory itself look like an output.
        (inside / "summary.json").write_text('{"context": {}, "drugs": {}}')
        (inside / "index.html").write_text("")
    before = _files(out)
    with pytest.raises(ValueError, match="working directory") as e:
        write_explanations([], Path(where), context=CONTEXT, force=True)
    assert str(target) in str(e.value)
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["explain"]


def test_a_failed_write_leaves_the_previous_output_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = write_explanations([], tmp_path / "explain", context=CONTEXT)
    before = _files(out)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(_writing, "_write", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_explanations([], out, context=CONTEXT, force=True)
    assert _files(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["explain"]


def test_a_failed_rename_puts_the_previous_output_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = write_explanations([], tmp_path / "explain", context=CONTEXT)
    before = _files(out)
    real = _writing.os.replace

    def replace(src: object, dst: object) -> None:
        if Path(str(src)).name.startswith(".explain-") and Path(str(dst)) == out:
            raise OSError("rename failed")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(_writing.os, "replace", replace)
    with pytest.raises(OSError, match="rename failed"):
        write_explanations([], out, context=CONTEXT, force=True)
    assert _files(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["explain"]
