"""The student labs: generated from the solutions, free of solution text, and never replacing a student's edits.
(That an untouched lab runs top to bottom with checks saying "not implemented yet" is tested in a real JupyterLab:
tests/browser/test_notebook_in_jupyterlab.py.)"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("build_labs", ROOT / "tools" / "build_labs.py")
build_labs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_labs)

SOLUTIONS = sorted(build_labs.SOLUTIONS.glob("*.ipynb"))
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def notebook(*cells) -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells), metadata={"kernelspec": dict(KERNELSPEC)})


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def ids(paths):
    return [path.name for path in paths]


# ---- make_lab and the command line, on small notebooks -------------------------------------------------------

def test_code_stub_takes_the_indentation_of_the_marker_and_the_rest_is_kept():
    source = ('def sigmoid(x):\n'
              '    """The logistic function."""\n'
              '    ### BEGIN SOLUTION\n'
              '    out = 1 / (1 + np.exp(-x))\n'
              '    ### END SOLUTION\n'
              '    return out\n'
              '\n'
              '### BEGIN SOLUTION\n'
              'answer = 42\n'
              '### END SOLUTION')
    lab = build_labs.make_lab(notebook(new_code_cell(source)))
    assert lab.cells[0].source == ('def sigmoid(x):\n'
                                   '    """The logistic function."""\n'
                                   '    # YOUR CODE HERE\n'
                                   '    raise NotImplementedError\n'
                                   '    return out\n'
                                   '\n'
                                   '# YOUR CODE HERE\n'
                                   'raise NotImplementedError')
    compile(lab.cells[0].source, "<lab cell>", "exec")


def test_markdown_answer_is_replaced_and_the_question_kept():
    source = "**Question:** why does sigmoid saturate?\n\n### BEGIN SOLUTION\nIts slope vanishes.\n### END SOLUTION\n"
    lab = build_labs.make_lab(notebook(new_markdown_cell(source)))
    assert lab.cells[0].source == "**Question:** why does sigmoid saturate?\n\nYOUR ANSWER HERE\n"


def test_outputs_are_cleared_and_metadata_ids_and_the_solution_kept():
    cell = new_code_cell("print(1)", execution_count=3, outputs=[new_output("stream", name="stdout", text="1\n")],
                         metadata={"tags": ["nbval-ignore-output"], "execution": {"iopub.status.idle": "now"}})
    solution = notebook(cell, new_markdown_cell("text"))
    solution.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    before = nbformat.writes(solution)
    lab = build_labs.make_lab(solution)
    assert lab.cells[0].outputs == [] and lab.cells[0].execution_count is None
    assert lab.cells[0].metadata == {"tags": ["nbval-ignore-output"]}
    assert [c.id for c in lab.cells] == [c.id for c in solution.cells]
    assert lab.metadata == {"kernelspec": KERNELSPEC}
    assert nbformat.writes(solution) == before


@pytest.mark.parametrize("cell, where", [
    (new_code_cell("x = 1\n### END SOLUTION"), "cell 2 of 2 (code), line 2: '### END SOLUTION' without"),
    (new_code_cell("### BEGIN SOLUTION\n  ### BEGIN SOLUTION\n### END SOLUTION"),
     "cell 2 of 2 (code), line 2: nested"),
    (new_markdown_cell("a\nb\n### BEGIN SOLUTION\nanswer"),
     "cell 2 of 2 (markdown), line 3: '### BEGIN SOLUTION' is never"),
])
def test_unbalanced_or_nested_markers_name_notebook_cell_and_line(cell, where):
    with pytest.raises(build_labs.MarkerError, match=re.escape(f"solutions/99_bad.ipynb: {where}")):
        build_labs.make_lab(notebook(new_code_cell("import numpy"), cell), name="solutions/99_bad.ipynb")


def test_command_line_builds_deterministically_and_check_reports_without_writing(tmp_path, capsys):
    solutions, labs = tmp_path / "solutions", tmp_path / "labs"
    solutions.mkdir()
    answer = new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                           execution_count=1)
    nbformat.write(notebook(answer), solutions / "01_a.ipynb")
    nbformat.write(notebook(new_code_cell("print('no markers')", execution_count=1,
                                          outputs=[new_output("stream", name="stdout", text="no markers\n")])),
                   solutions / "02_b.ipynb")
    dirs = ["--solutions", str(solutions), "--labs", str(labs)]

    assert build_labs.main(["--check", *dirs]) == 1
    assert not labs.exists()
    assert build_labs.main(dirs) == 0
    first = {p.name: p.read_bytes() for p in labs.iterdir()}
    assert sorted(first) == [".generated.json", "01_a.ipynb", "02_b.ipynb"]
    assert "raise NotImplementedError" in read(labs / "01_a.ipynb").cells[0].source
    assert read(labs / "02_b.ipynb").cells[0].outputs == []
    assert build_labs.main(dirs) == 0
    assert {p.name: p.read_bytes() for p in labs.iterdir()} == first
    assert build_labs.main(["--check", *dirs]) == 0

    answer.source = answer.source.replace("def f", "def g")
    nbformat.write(notebook(answer), solutions / "01_a.ipynb")
    (labs / "02_b.ipynb").rename(labs / "03_orphan.ipynb")
    capsys.readouterr()
    assert build_labs.main(["--check", *dirs]) == 1
    report = capsys.readouterr().err
    assert f"stale: {labs / '01_a.ipynb'} was not generated from the current" in report
    assert f"missing: {labs / '02_b.ipynb'}" in report
    assert f"extra: {labs / '03_orphan.ipynb'}" in report
    assert "make labs" in report
    assert (labs / "01_a.ipynb").read_bytes() == first["01_a.ipynb"]


def test_command_line_reports_marker_errors(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    nbformat.write(notebook(new_code_cell("### BEGIN SOLUTION")), tmp_path / "solutions" / "01_a.ipynb")
    assert build_labs.main(["--solutions", str(tmp_path / "solutions"), "--labs", str(tmp_path / "labs")]) == 2
    assert "01_a.ipynb: cell 1 of 1 (code), line 1" in capsys.readouterr().err
    assert not (tmp_path / "labs").exists()


# ---- a student's work is never lost ----------------------------------------------------------------------------

@pytest.fixture
def built(tmp_path):
    """A solutions folder with one notebook and the labs built from it: (solutions, labs, command-line dirs)."""
    solutions, labs = tmp_path / "solutions", tmp_path / "labs"
    solutions.mkdir()
    nbformat.write(notebook(new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                                          execution_count=1)), solutions / "01_a.ipynb")
    dirs = ["--solutions", str(solutions), "--labs", str(labs)]
    assert build_labs.main(dirs) == 0
    return solutions, labs, dirs


def edit(lab: Path) -> bytes:
    """Do what a student does: write an answer into the lab and save it."""
    nb = read(lab)
    nb.cells[0].source = nb.cells[0].source.replace("raise NotImplementedError", "return 1  # my answer")
    nbformat.write(nb, lab)
    return lab.read_bytes()


def test_an_edited_lab_is_kept_when_the_labs_are_rebuilt(built, capsys):
    solutions, labs, dirs = built
    mine = edit(labs / "01_a.ipynb")
    capsys.readouterr()
    assert build_labs.main(dirs) == 0
    assert (labs / "01_a.ipynb").read_bytes() == mine
    out = capsys.readouterr().out
    assert f"kept {labs / '01_a.ipynb'}: it was edited since it was generated" in out and "--replace-edited" in out
    assert build_labs.main(["--check", *dirs]) == 0  # an edited lab is reported, not a problem
    assert f"edited since generated (kept as it is): {labs / '01_a.ipynb'}" in capsys.readouterr().out


def test_an_edited_lab_is_kept_even_when_the_solution_changed(built, capsys):
    solutions, labs, dirs = built
    mine = edit(labs / "01_a.ipynb")
    nb = read(solutions / "01_a.ipynb")
    nb.cells[0].source = nb.cells[0].source.replace("def f", "def g")
    nbformat.write(nb, solutions / "01_a.ipynb")
    build_labs.main(dirs)
    assert (labs / "01_a.ipynb").read_bytes() == mine


def test_replace_edited_saves_the_students_copy_first(built, capsys):
    solutions, labs, dirs = built
    mine = edit(labs / "01_a.ipynb")
    assert build_labs.main(["--replace-edited", *dirs]) == 0
    backups = list((labs / "backups").glob("01_a-*.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == mine
    assert "raise NotImplementedError" in read(labs / "01_a.ipynb").cells[0].source
    assert f"saved your edited 01_a.ipynb as {backups[0]}" in capsys.readouterr().out
    assert build_labs.main(["--check", *dirs]) == 0 and not build_labs.edited_labs(labs)


def test_a_lab_without_a_recorded_fingerprint_counts_as_edited(built):
    solutions, labs, dirs = built
    mine = edit(labs / "01_a.ipynb")
    (labs / build_labs.MANIFEST).unlink()
    build_labs.main(dirs)
    assert (labs / "01_a.ipynb").read_bytes() == mine


# ---- the real notebooks ---------------------------------------------------------------------------------------

def test_labs_are_built_from_the_current_solutions():
    """Judged by the fingerprints the build recorded, so a student's work in labs/ does not fail the suite."""
    problems = build_labs.lab_problems()
    assert not problems, "labs/ is out of date; run `make labs`:\n" + "\n".join(problems)


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids(SOLUTIONS))
def test_lab_holds_no_solution_marker_or_text(solution):
    """The lab as the build writes it (the file itself may hold a student's answers)."""
    source = read(solution)
    lab = build_labs.make_lab(source, str(solution))
    expected_lines = {line.strip() for cell in lab.cells for line in cell.source.splitlines()}
    distinctive = set(build_labs.removed_lines(source, str(solution))) - expected_lines
    for index, cell in enumerate(lab.cells):
        for number, line in enumerate(cell.source.splitlines(), 1):
            where = f"{lab}: cell {index + 1}, line {number}"
            assert line.strip() not in (build_labs.BEGIN, build_labs.END), f"{where} holds a solution marker"
            assert line.strip() not in distinctive, f"{where} holds solution text: {line.strip()!r}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=ids(SOLUTIONS))
def test_solution_has_a_kernelspec_and_ran_top_to_bottom_without_errors(solution):
    nb = read(solution)
    assert nb.metadata.get("kernelspec", {}).get("name"), f"{solution} has no kernelspec (JupyterLab would ask)"
    code = [(index + 1, cell) for index, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and cell.source.strip()]
    never_run = [number for number, cell in code if cell.execution_count is None]
    assert not never_run, f"{solution}: cells {never_run} were never executed; restart, run all and save"
    errors = [f"cell {number}: {out.ename}: {out.evalue}" for number, cell in code for out in cell.outputs
              if out.output_type == "error"]
    assert not errors, f"{solution} has error outputs:\n" + "\n".join(errors)
    counts = [cell.execution_count for _, cell in code]
    assert counts == sorted(set(counts)), (
        f"{solution} was not executed top to bottom in one run (execution counts {counts}); restart and run all")
