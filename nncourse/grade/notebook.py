"""Read a submission and its assignment; rebuild the notebook the grader runs.

The assignment is ``solutions/NN_topic.ipynb``: its code cells with nbgrader
``grade: true`` are the grading cells (``check(...)`` plus hidden tests), each
worth ``points``. ``restore`` takes a student's notebook, drops every cell
that is or claims to be a grading cell, and puts the solution's grading
cells back, hidden tests included, each right after the cell it follows in
the solution (matched by nbgrader ``grade_id``, else by cell id). So an edited
or deleted test cell changes nothing, and a deleted one comes back.
"""
import ast
import builtins
import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat

from nncourse.grade.aliases import upgrade

HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
MAX_NOTEBOOK_BYTES = 50 * 2**20


class SubmissionError(ValueError):
    """A submission that cannot be graded; the message says why and what to do."""


class AssignmentError(ValueError):
    """The solutions notebook cannot serve as an assignment; the message says why."""


@dataclass
class GradingCell:
    """One grading cell of the solution: trusted code, its points, what it reads."""
    grade_id: str
    label: str            # "1.2"
    source: str           # hidden tests included, markers removed
    points: float
    functions: list       # exercise functions it calls (recorded and replayed)
    values: list          # other notebook names it reads (sent as plain data)
    seconds: float = 0.0  # how long it took in the stored solution run


@dataclass
class PlanCell:
    """A code cell to run: the student's (kind "code") or a restored grading cell."""
    kind: str
    source: str
    grade_id: str = ""
    number: int = 0       # 1-based position in the student's notebook (0: restored)
    seconds: float = 0.0


@dataclass
class Assignment:
    """Everything the grader needs from ``solutions/NAME.ipynb``."""
    name: str
    path: Path
    grading: dict = field(default_factory=dict)     # grade_id -> GradingCell, in order
    functions: dict = field(default_factory=dict)   # exercise function -> defining grade_id
    imports: list = field(default_factory=list)     # import statements, for the judge
    grade_ids: set = field(default_factory=set)
    seconds: dict = field(default_factory=dict)     # grade_id or cell id -> stored run time
    cells: list = field(default_factory=list)
    mutates: dict = field(default_factory=dict)     # function -> (parameter names, those changed in place)
    forbidden: dict = field(default_factory=dict)   # exercise label -> nnlib functions it must not call

    @property
    def possible(self):
        return sum(cell.points for cell in self.grading.values())

    @classmethod
    def load(cls, path):
        path = Path(path).resolve()
        nb = nbformat.read(str(path), as_version=4)
        self = cls(name=path.stem, path=path, cells=list(nb.cells))
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade_id"):
                self.grade_ids.add(meta["grade_id"])
            if _key(cell):
                self.seconds[_key(cell)] = _stored_seconds(cell)
            if cell.cell_type != "code":
                continue
            tree = parse(cell.source)
            for node in tree.body:
                line = ast.unparse(node)
                if isinstance(node, (ast.Import, ast.ImportFrom)) and line not in self.imports:
                    self.imports.append(line)
            if meta.get("solution"):
                for name in defined_functions(tree):
                    self.functions[name] = meta.get("grade_id", "")
                for node in tree.body:
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.mutates[node.name] = parameters(node), mutated_parameters(node)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade"):
                self.grading[meta["grade_id"]] = self._grading_cell(cell, meta)
        if not self.grading:
            raise AssignmentError(f"{path.name} has no grading cells (code cells with nbgrader grade: true).")
        from nncourse.grade.reference import reference_calls
        self.forbidden = reference_calls({cell.label for cell in self.grading.values()})
        return self

    def _grading_cell(self, cell, meta):
        source = strip_hidden_markers(cell.source)
        used = loaded_names(parse(source))
        imported = set().union(set(), *(bound_names(parse(line)) for line in self.imports))
        return GradingCell(
            grade_id=meta["grade_id"], label=exercise_label(meta["grade_id"]), source=source,
            points=float(meta.get("points", 0)),
            functions=sorted(used & set(self.functions)),
            values=sorted(used - set(self.functions) - imported),
            seconds=_stored_seconds(cell))


# ------------------------------------------------------------------ reading
def read_submission(path):
    """The notebook at ``path``; SubmissionError for anything that is not one."""
    path = Path(path)
    if path.suffix != ".ipynb":
        raise SubmissionError(f"{path.name} is not a notebook: expected a .ipynb file.")
    raw = path.read_bytes()
    if not raw.strip():
        raise SubmissionError(f"{path.name} is empty (0 bytes of notebook): save the notebook and submit again.")
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MB: clear the outputs and submit again.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SubmissionError(f"{path.name} is not valid notebook JSON ({exc}); the file is corrupt: "
                              f"open it in JupyterLab, save it, and submit again.") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise SubmissionError(f"{path.name} is JSON but not a Jupyter notebook (no list of 'cells').")
    try:
        with warnings.catch_warnings():  # old or hand-made notebooks lack cell ids: fine here
            warnings.simplefilter("ignore")
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        for cell in nb.cells:
            if cell.cell_type not in ("code", "markdown", "raw") or not isinstance(cell.source, str):
                raise ValueError(f"a cell of type {cell.cell_type!r} has no text source")
    except Exception as exc:  # noqa: BLE001 - any malformation is the submission's problem
        raise SubmissionError(f"{path.name} is not a readable notebook: {exc}.") from None
    return nb


def check_assignment(nb, assignment, name="the notebook"):
    """SubmissionError unless ``nb`` holds exercises of ``assignment``.

    A notebook saved before its chapter was renumbered gets its grade_ids
    renamed to the current ones first, in place (``nncourse.grade.aliases``).
    """
    upgrade(nb, assignment)
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells} - {None, ""}
    if ids & assignment.grade_ids:
        return
    chapters = sorted({m.group(1) for m in map(re.compile(r"^(?:ex|check|answer)_(\d+)_").match, ids) if m})
    seen = (f"its exercise cells belong to chapter {', '.join(chapters)}" if chapters else
            "it has exercise cells of another assignment" if ids else
            "it has no exercise cells (no nbgrader metadata) at all")
    raise SubmissionError(f"{name} is not assignment {assignment.name}: {seen}. "
                          f"Submit the notebook from exercises/{assignment.name}.ipynb.")


# ------------------------------------------------------------------ restore
def restore(nb, assignment):
    """The cells to run: the student's code cells with the solution's grading cells restored."""
    kept = [(number, cell) for number, cell in enumerate(nb.cells, 1)
            if not _claims_grading(cell, assignment)]
    position = {_key(cell): i for i, (_, cell) in enumerate(kept) if _key(cell)}
    after = {}  # index in kept -> grading cells to insert after it (-1: at the end)
    for index, cell in enumerate(assignment.cells):
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in assignment.grading:
            anchor = next((position[_key(c)] for c in reversed(assignment.cells[:index])
                           if _key(c) in position), -1)
            after.setdefault(anchor, []).append(gid)
    plan = []
    for i, (number, cell) in enumerate(kept):
        if cell.cell_type == "code":
            gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            plan.append(PlanCell("code", cell.source, gid, number,
                                 assignment.seconds.get(_key(cell), 0.0)))
        plan += [_grading_plan(assignment.grading[g]) for g in after.get(i, [])]
    return plan + [_grading_plan(assignment.grading[g]) for g in after.get(-1, [])]


def _grading_plan(cell):
    return PlanCell("grading", cell.source, cell.grade_id, 0, cell.seconds)


def _claims_grading(cell, assignment):
    meta = cell.metadata.get("nbgrader", {})
    return meta.get("grade_id") in assignment.grading or (cell.cell_type == "code" and meta.get("grade") is True)


def _key(cell):
    gid = cell.metadata.get("nbgrader", {}).get("grade_id")
    return ("grade_id", gid) if gid else ("id", cell["id"]) if cell.get("id") else None


def _stored_seconds(cell):
    """Run time recorded by nbclient in the stored solution (0 when absent)."""
    timing = cell.metadata.get("execution", {})
    try:
        start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
        return max(0.0, (end - start).total_seconds())
    except (KeyError, TypeError, ValueError, AttributeError):
        return 0.0


# ------------------------------------------------------------------ source analysis
def parse(source):
    """The AST of a cell, after IPython's transforms (magics, !shell); empty on a SyntaxError."""
    try:
        return ast.parse(to_python(source))
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def to_python(source):
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager().transform_cell(source)


def syntax_error(source):
    """(line, message) of the SyntaxError in a cell, or None."""
    try:
        compile(to_python(source), "<cell>", "exec")
    except SyntaxError as exc:
        return exc.lineno or 0, exc.msg
    return None


def strip_hidden_markers(source):
    return "\n".join(line for line in source.splitlines() if line.strip() not in HIDDEN_MARKERS)


def defined_functions(tree):
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def loaded_names(tree):
    """Names read anywhere in ``tree`` that it does not bind itself and are not builtins."""
    loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return loads - bound_names(tree) - set(dir(builtins)) - {"get_ipython", "display"}


def run_time_names(tree):
    """Names a cell reads when it runs (not those only inside the functions it defines)."""
    names, todo = set(), list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            todo += node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d]
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            names.add(node.id)
        todo += [child for child in ast.iter_child_nodes(node) if child is not None]
    return names


def parameters(function):
    """The positional parameter names of a ``def``, in order (keyword-only ones after them)."""
    args = function.args
    return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]


IN_PLACE_METHODS = {"fill", "sort", "resize", "put", "itemset", "setfield", "partition", "append", "extend",
                    "update", "clear", "pop", "insert", "remove", "setdefault", "__setitem__", "__iadd__"}


def mutated_parameters(function):
    """The parameters a function (the solution's) changes in place, found in its source.

    A name is the parameter itself or an alias of it or of its items
    (``v = params["W"]``, ``w, b = cache``, ``for p, v in zip(params, velocities)``);
    a change in place is an augmented assignment to it or its items, an item or
    attribute assignment, ``out=`` of a ufunc, ``np.copyto(it, ...)`` or an
    in-place method. Over-approximates on purpose: a parameter it names is
    written back to the tests; every other one stays as the tests built it.
    """
    params = set(parameters(function))
    alias = {p: {p} for p in params}    # name -> the parameters it may stand for

    def roots(node):
        found = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in alias:
                found |= alias[sub.id]
        return found

    def direct(node):  # the parameters that an expression *is* (not a computation from them)
        if isinstance(node, ast.Name):
            return alias.get(node.id, set())
        if isinstance(node, (ast.Subscript, ast.Attribute)):
            return direct(node.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("zip", "enumerate",
                                                                                             "reversed", "iter"):
            return set().union(set(), *(direct(a) for a in node.args))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("items", "values", "get"):
            return direct(node.func.value)
        if isinstance(node, (ast.Tuple, ast.List)):
            return set().union(set(), *(direct(e) for e in node.elts))
        return set()

    def bind(target, sources, value=None):
        parts = value.elts if isinstance(value, (ast.Tuple, ast.List)) else \
            value.args if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and \
            value.func.id == "zip" else None
        if isinstance(target, (ast.Tuple, ast.List)) and parts is not None and len(parts) == len(target.elts):
            for one, part in zip(target.elts, parts):  # w, b = x, y; for p, v in zip(params, velocities)
                bind(one, direct(part), part)
            return
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name) and sources:
                alias[sub.id] = alias.get(sub.id, set()) | sources

    for _ in range(3):  # aliases of aliases
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    bind(target, direct(node.value), node.value)
            elif isinstance(node, (ast.For, ast.comprehension)):
                bind(node.target, direct(node.iter), node.iter)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                bind(node.optional_vars, direct(node.context_expr))
    changed = set()
    for node in ast.walk(function):
        if isinstance(node, ast.AugAssign):
            changed |= direct(node.target)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for sub in ast.walk(target):
                    if isinstance(sub, (ast.Subscript, ast.Attribute)) and isinstance(sub.ctx, ast.Store):
                        changed |= direct(sub.value)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in IN_PLACE_METHODS:
                changed |= direct(func.value)
            if isinstance(func, ast.Attribute) and func.attr in ("copyto", "at") and node.args:
                changed |= direct(node.args[0])
            for keyword in node.keywords:
                if keyword.arg == "out":
                    changed |= direct(keyword.value)
    return changed & params


def bound_names(tree):
    names = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, ast.arg):
            names.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
    return names


SUSPICIOUS = [  # (pattern, what it means), for the instructor's eyes only: never a grade
    (r"_getframe|\bf_back\b|\bf_globals\b|inspect\.(stack|currentframe|getouterframes)|get_referrers",
     "inspects the caller's frames"),
    (r"nnlib_grade|x-nnlib-grade|publish_display_data", "touches the grader's messages"),
    (r"\bctypes\b|\bsubprocess\b|os\.system|os\.kill|os\._exit|\bsignal\b", "makes OS-level calls"),
    (r"sys\.modules|\bbuiltins\b|__builtins__|setattr\(\s*(np|numpy|nnlib|nncourse)", "replaces modules or builtins"),
    (r"^\s*(np|numpy|nnlib[\w.]*|nncourse[\w.]*)\.\w+\s*=(?!=)", "monkeypatches NumPy, nnlib or nncourse"),
    (r"showtraceback|excepthook", "hides errors"),
]


def flags(plan):
    """Lines for the instructor: student cells that use nnlib's reference or look like tampering."""
    found = []
    for cell in plan:
        if cell.kind != "code":
            continue
        reasons = [why for pattern, why in SUSPICIOUS if re.search(pattern, cell.source, re.M)]
        if cell.grade_id.startswith("ex_") and re.search(r"\bnnlib\b", cell.source):
            reasons.insert(0, "uses nnlib in an exercise (the reference implementation?)")
        found += [f"cell {cell.number}: {why}" for why in reasons]
    return found


def exercise_label(grade_id):
    """"check_1_2_update" -> "1.2" (the grade_id itself when it has no N_k)."""
    match = re.match(r"^[a-z]+_(\d+)_(\d+)", grade_id)
    return f"{match.group(1)}.{match.group(2)}" if match else grade_id
