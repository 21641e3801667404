"""Grading with named mistakes (course.grade): the sandbox that confines a submission's kernel, the plan of a lab,
the class report, and real submissions made from lab 01: a correct one, one with known mistakes, an empty one, a
hanging one, one that kills its kernel, one that floods its output and writes outside its folder, and a broken
notebook file."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course.grade import find_submissions, grade
from course.grade.plan import course_labs, identify
from course.grade.report import mistake_name, summarize
from course.grade.run import Grade
from course.grade.sandbox import make_hook

ROOT = Path(__file__).resolve().parent.parent
LAB = "01_activation_functions"


# ---- the sandbox, in process ----------------------------------------------------------------------------------

@pytest.mark.parametrize("event, args, allowed", [
    ("open", ("{root}/out.txt", "w", 0), True),
    ("open", ("{outside}/out.txt", "w", 0), False),
    ("open", ("{outside}/in.txt", "r", 0), True),
    ("open", ("{outside}/x", None, 0o101), False),  # os.open with O_WRONLY | O_CREAT
    ("open", ("/dev/null", "w", 0), True),
    ("os.remove", ("{outside}/x", None), False),
    ("os.rename", ("{root}/a", "{outside}/b", None, None), False),
    ("shutil.copyfile", ("{outside}/src", "{root}/dst"), True),
    ("shutil.rmtree", ("{outside}", None), False),
    ("subprocess.Popen", ("ls", ["ls"], None, None), False),
    ("os.system", ("ls",), False),
])
def test_the_sandbox_allows_writing_only_inside_the_submissions_folder(tmp_path, event, args, allowed):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    hook = make_hook(str(root))
    args = tuple(a.format(root=root, outside=outside) if isinstance(a, str) else a for a in args)
    if allowed:
        hook(event, args)
    else:
        with pytest.raises(PermissionError, match="grading: "):
            hook(event, args)


def test_the_plan_of_a_lab_is_its_check_calls():
    labs = course_labs()
    assert "00_start_here" not in labs  # students write nothing there
    plan = labs[LAB]
    assert [c.function for c in plan][:3] == ["sigmoid_forward", "sigmoid_backward", "tanh_forward"]
    assert plan[1].arguments == ("sigmoid_forward", "sigmoid_backward")
    assert identify(Path("subs/alice/alice_01_activation_functions (1).ipynb"), labs) == ("alice", LAB)
    assert identify(Path("subs/bob/homework.ipynb"), labs) == ("bob", None)
    # the student is the first folder below the one searched, however deep the notebook lies
    for layout in ("class/carol/NB.ipynb", "home/carol/labs/NB.ipynb", "submitted/carol/ps1/NB.ipynb"):
        path = Path(layout.replace("NB", LAB))
        assert identify(path, labs, root=Path(path.parts[0])) == ("carol", LAB)
    assert identify(Path("carol") / f"{LAB}.ipynb", labs, root=Path("carol")) == ("carol", LAB)


def test_submissions_are_found_in_any_layout_without_checkpoints_or_backups(tmp_path):
    for name in ["alice/labs", "alice/labs/.ipynb_checkpoints", "alice/labs/backups", "bob"]:
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
        (tmp_path / name / f"{LAB}.ipynb").write_text("{}")
    found = find_submissions([tmp_path, tmp_path / "bob" / f"{LAB}.ipynb"])
    assert found == [(tmp_path / "alice/labs" / f"{LAB}.ipynb", tmp_path), (tmp_path / "bob" / f"{LAB}.ipynb", tmp_path),
                     (tmp_path / "bob" / f"{LAB}.ipynb", None)]


def test_mistakes_are_counted_by_name_in_the_class_report():
    grades = [Grade(s, LAB, "adam", status, detail) for s, status, detail in [
        ("a", "mistake", "likely mistake: Adam without bias correction: the first steps are too small"),
        ("b", "mistake", "likely mistake: Adam without bias correction: the first steps are too small"),
        ("c", "mistake", "adam output is wrong: at index (0, 1) got 0.3, expected 0.2"),
        ("d", "passed", "correct")]]
    assert mistake_name(grades[0].detail) == "Adam without bias correction"
    assert mistake_name(grades[2].detail) == "adam output is wrong"
    [row] = summarize(grades)
    assert row["passed"] == 0.25 and row["mistakes"][0] == ("Adam without bias correction", 2, 0.5)


# ---- real submissions -------------------------------------------------------------------------------------------

def notebook_copy(path: Path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def edited(nb, old: str, new: str):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
    assert cells, f"{old!r} is not in the lab"
    for cell in cells:
        cell.source = cell.source.replace(old, new)
    return nb


def with_cell(nb, index: int, source: str):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells.insert(index, nbformat.v4.new_code_cell(source))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Seven submissions of lab 01 graded once: (grades by student and function, the folders involved)."""
    base = tmp_path_factory.mktemp("grading")
    subs, out, outside = base / "submissions", base / "out", base / "outside"
    solution = notebook_copy(ROOT / "solutions" / f"{LAB}.ipynb")
    lab = notebook_copy(ROOT / "labs" / f"{LAB}.ipynb")
    mistakes = edited(solution, "return np.where(x > 0, dout, 0)", "return dout")
    mistakes = edited(mistakes, "return np.where(x > 0, dout, alpha * dout)",
                      "return np.where(x >= 0, dout, alpha * dout)")
    hanging = with_cell(edited(solution, "return np.where(x > 0, x, alpha * x), (x, alpha)\n    ### END SOLUTION\n\n\n"
                                         "def prelu_backward", "while True:\n        pass\n    ### END SOLUTION\n\n\n"
                                                               "def prelu_backward"),
                        3, "while True:\n    pass")
    killer = with_cell(solution, 3, "import os\nos._exit(1)")
    rude = with_cell(solution, 3, f"for i in range(300_000):\n    print('flood', i)\n"
                                  f"open({str(outside / 'escaped.txt')!r}, 'w').write('x')")
    rude = with_cell(rude, 4, "import subprocess\nsubprocess.run(['touch', "
                              f"{str(outside / 'spawned.txt')!r}])")
    for student, nb in [("alice", solution), ("bob", mistakes), ("carol", lab), ("dave", hanging),
                        ("erin", killer), ("frank", rude)]:
        folder = subs / student / "labs" if student == "alice" else subs / student  # alice: a hub home's layout
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{LAB}.ipynb")
    (subs / "heidi").mkdir()
    (subs / "heidi" / f"{LAB}.ipynb").write_text("{not a notebook")
    outside.mkdir()
    before = {p: p.read_bytes() for p in subs.rglob("*.ipynb")}
    grades = grade([subs], out, jobs=2, cell_limit=8, total_limit=150)
    after = {p: p.read_bytes() for p in subs.rglob("*.ipynb")}
    table = {(g.student, g.function): g for g in grades}
    return table, {"subs": subs, "out": out, "outside": outside, "unchanged": before == after}



@pytest.mark.slow
def test_a_correct_submission_passes_everything(graded):
    table, _ = graded
    alice = {f: g.status for (s, f), g in table.items() if s == "alice"}
    assert set(alice.values()) == {"passed"} and len(alice) == len(course_labs()[LAB])


@pytest.mark.slow
def test_known_mistakes_are_named(graded):
    table, _ = graded
    assert table["bob", "relu_backward"].status == "mistake"
    assert "gradient passed where x < 0" in table["bob", "relu_backward"].detail
    assert table["bob", "leaky_relu_backward"].status == "mistake" and "x = 0" in table["bob", "leaky_relu_backward"].detail
    assert table["bob", "sigmoid_forward"].status == "passed"


@pytest.mark.slow
def test_an_empty_lab_is_not_implemented_everywhere(graded):
    table, _ = graded
    assert {g.status for (s, _), g in table.items() if s == "carol"} == {"not implemented"}


@pytest.mark.slow
def test_a_hanging_function_times_out_alone_and_a_hanging_cell_is_interrupted(graded):
    table, _ = graded
    assert table["dave", "prelu"].status == "timed out" and "did not finish" in table["dave", "prelu"].detail
    others = {g.status for (s, f), g in table.items() if s == "dave" and f != "prelu"}
    assert others == {"passed"}


@pytest.mark.slow
def test_a_kernel_killer_crashes_itself_only(graded):
    table, _ = graded
    erin = {g.status for (s, _), g in table.items() if s == "erin"}
    assert erin == {"crashed"} and "kernel died" in table["erin", "maxout"].detail


@pytest.mark.slow
def test_a_flood_and_writes_outside_the_copy_are_contained(graded):
    table, dirs = graded
    assert {g.status for (s, _), g in table.items() if s == "frank"} == {"passed"}
    assert list(dirs["outside"].iterdir()) == []  # neither the write nor the subprocess happened


@pytest.mark.slow
def test_a_broken_file_is_reported_and_nothing_is_modified(graded):
    table, dirs = graded
    assert table["heidi", "maxout"].status == "crashed" and "could not be read" in table["heidi", "maxout"].detail
    assert dirs["unchanged"], "a submission was modified"
    assert sorted(p.name for p in dirs["out"].iterdir()) == ["grades.csv", "report.html", "report.md"]


@pytest.mark.slow
def test_the_reports(graded):
    _, dirs = graded
    rows = list(csv.DictReader((dirs["out"] / "grades.csv").open()))
    assert {r["student"] for r in rows} == {"alice", "bob", "carol", "dave", "erin", "frank", "heidi"}
    assert set(rows[0]) == {"student", "lab", "function", "status", "detail"}
    report = (dirs["out"] / "report.md").read_text()
    # relu_backward passes for alice, dave and frank (3 of 7); bob's mistake is 1 of 7
    assert "| 01_activation_functions | relu_backward | 7 | 43% | 14% gradient passed where x < 0 |" in report
    assert "<table>" in (dirs["out"] / "report.html").read_text()


def test_the_command_line(tmp_path):
    (tmp_path / "zoe").mkdir()
    (tmp_path / "zoe" / f"{LAB}.ipynb").write_text("not json")
    result = subprocess.run([sys.executable, "-m", "course.grade", str(tmp_path / "zoe"), "--out",
                             str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "graded 1 students: 0 of" in result.stdout and (tmp_path / "out" / "report.html").exists()
