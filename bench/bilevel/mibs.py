"""The MibS / BOBILib bilevel instance format: read it as a ``bilevel_textbook`` case, write
the engine's matrix form into it.

An instance is two files. The ``.mps`` file is the single-level relaxation: every variable
and row of both levels, with the leader's objective as the MPS objective. The ``.aux`` file
names the follower's (lower-level) variables with their objective coefficients, and the
follower's rows. Everything the aux file does not name belongs to the leader. Bounds of a
follower variable belong to the follower's problem.

The grammar, as MibS itself reads and writes it (whitespace-separated tokens; a value may
sit on the keyword's line or the next one):

* keyword ("name-based") format, the one BOBILib uses::

      @NUMVARS      <number of follower variables>
      @NUMCONSTRS   <number of follower rows>
      @VARSBEGIN    <name> <coefficient>  (one pair per follower variable)  @VARSEND
      @CONSTRSBEGIN <row name> (one per follower row)                       @CONSTRSEND
      @NAME         <instance name>                                  (optional)
      @MPS          <MPS file, relative to the aux file>             (optional)
      @OBJSENSE     MAX | MIN                                        (optional, MibS 1.2)

  MibS's writer emits exactly this order and no ``@OBJSENSE``: the follower's coefficients
  are written for a minimisation. idol's reader requires this order, so :func:`write_mibs`
  keeps it. Read here as well: the spellings of MibS's documentation (``@NUMCONSTR``,
  ``@CONSTRBEGIN``/``@CONSTREND``) and of MibS before 1.0 (``@CONSTSBEGIN``/``@CONSTSEND``).
* positional ("index-based", legacy) format: ``N n``, ``M m``, one ``LC j`` per follower
  variable, one ``LR i`` per follower row, one ``LO c`` per follower variable (in ``LC``
  order) and ``OS 1`` (minimise, the default) or ``OS -1`` (maximise). ``j`` and ``i`` are
  0-based positions in the MPS file's column and row order (the objective row not counted);
  MibS chooses between indices and names by a parameter (``inputFormat``, default
  ``indexBased``): here a token of digits is an index and anything else a name.

Read from (public sources, 2026-12):

* coin-or/MibS ``src/MibSModel.cpp`` at 2541481b61d558745be076496f83acb502ea287d (branch
  stable/1.2, the 1.2.x releases): ``readAuxiliaryData`` (keywords, ``OS`` 1 = min and -1 =
  max, ``@OBJSENSE`` MAX else min), ``writeAuxiliaryData`` (the keyword order, the follower's
  coefficients multiplied by its sense) and ``readProblemData`` ("MPS is always
  minimization": MibS ignores an MPS ``OBJSENSE`` section);
* coin-or/MibS ``src/MibSModel.cpp`` at 64ddc2ea9afbe6adb374a78235a3d13b38bbd1ec (master:
  ``@CONSTSBEGIN``) and its test instances ``data/moore90WithName.txt``,
  ``data/moore90WithNameSection.txt``, ``data/notInterdiction/moore90.txt`` (positional
  files, LC/LR by index and by name);
* coin-or/MibS ``input.md`` at f6f8cf8a8248bb9072d25ce2f54853a5d2304ae6 (branch gh-pages,
  https://coin-or.github.io/MibS/input.html: both formats, the worked example);
* coin-or/CoinUtils ``src/CoinMpsIO.cpp`` at 4113b9723cbe9e7d5e6871a5a864098d566c0ff1 (the MPS
  reader MibS uses: an integer column without bounds is binary, as in HiGHS);
* hlefebvr/idol ``read_from_file.cpp`` (bilevel ``AuxParser``: the strict tag order) and its
  ``.aux`` format page; https://bobilib.org/documentation.html (BOBILib uses the name-based
  MibS format, MPS + aux pairs).

Deliberate readings: the MPS objective sense is respected (an ``OBJSENSE MAX`` file is a
maximising leader; MibS would minimise it); the MPS is read by HiGHS (``highspy``); an
unknown keyword, a count that does not match its list, an interdiction file (``IC``/``IB``)
and an ``@LP`` instance are refused with one line. A follower variable must be continuous:
the engine's follower is a linear program.
"""

from __future__ import annotations

import gzip
import math
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from bench.bilevel.problem import EQ, GE, GRID, INTEGER, LE, BilevelError, BilevelProblem
from bench.cases import CaseError

FORMULATION = "bilevel_textbook"


class MibsError(CaseError, BilevelError):
    """An instance that cannot be read, or a problem the format cannot hold (one line)."""


# --------------------------------------------------------------------------- aux grammar

_NUMVARS = {"N", "@NUMVARS"}
_NUMCONSTRS = {"M", "@NUMCONSTRS", "@NUMCONSTR"}
_VARS_END = {"@VARSEND"}
_CONSTRS_BEGIN = {"@CONSTRSBEGIN", "@CONSTRBEGIN", "@CONSTSBEGIN"}
_CONSTRS_END = {"@CONSTRSEND", "@CONSTREND", "@CONSTSEND"}


@dataclass
class AuxData:
    """What an aux file says, before it is matched against its MPS file."""

    path: Path
    layout: str = ""  # "keyword" | "positional"
    n_vars: int | None = None
    n_constrs: int | None = None
    variables: list[str] = field(default_factory=list)  # names, or indices as digits
    coefficients: list[float] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)
    sense: str = "min"
    sense_source: str = ""
    name: str | None = None
    mps: str | None = None


@dataclass
class _Token:
    text: str
    line: int


def _tokens(text: str) -> list[_Token]:
    """Whitespace-separated tokens with their line numbers; a line starting with ``#`` is a
    comment (MibS's writer can append one)."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        out += [_Token(word, number) for word in line.split()]
    return out


class _Reader:
    def __init__(self, path: Path, tokens: list[_Token]) -> None:
        self.path, self.tokens, self.i = path, tokens, 0

    def fail(self, message: str, token: _Token | None = None) -> MibsError:
        where = f" (line {token.line})" if token is not None else ""
        return MibsError(f"{self.path}: {message}{where}")

    def more(self) -> bool:
        return self.i < len(self.tokens)

    def next(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def take(self, after: _Token) -> _Token:
        """The value that follows keyword ``after``."""
        if not self.more():
            raise self.fail(f"{after.text} needs a value", after)
        return self.next()

    def number(self, after: _Token, kind: type) -> Any:
        token = self.take(after)
        try:
            value = kind(token.text)
        except ValueError:
            raise self.fail(f"{after.text}: {token.text!r} is not a"
                            f"{'n integer' if kind is int else ' number'}", token) from None
        if kind is float and not math.isfinite(value):
            raise self.fail(f"{after.text}: {token.text!r} is not a finite number", token)
        return value

    def rest_of_line(self, after: _Token) -> str:
        """The value of @NAME / @MPS: the rest of the keyword's line, else the next line."""
        same = [t for t in self.tokens[self.i:] if t.line == after.line]
        if not same:
            if not self.more():
                raise self.fail(f"{after.text} needs a value", after)
            same = [t for t in self.tokens[self.i:] if t.line == self.tokens[self.i].line]
        self.i += len(same)
        return " ".join(t.text for t in same)

    def section(self, until: set[str]) -> Iterator[_Token]:
        """Tokens up to the next keyword; the section's end marker is consumed."""
        while self.more() and not self.tokens[self.i].text.startswith("@"):
            yield self.next()
        if self.more() and self.tokens[self.i].text in until:
            self.i += 1


def parse_aux(path: Path, text: str) -> AuxData:
    """Parse the text of an aux file (either layout) into :class:`AuxData`."""
    aux = AuxData(path)
    r = _Reader(path, _tokens(text))
    layouts: set[str] = set()
    while r.more():
        key = r.next()
        word = key.text
        if word in _NUMVARS or word in _NUMCONSTRS:
            value = r.number(key, int)
            if value < 0:
                raise r.fail(f"{word}: a count cannot be negative", key)
            attr = "n_vars" if word in _NUMVARS else "n_constrs"
            if getattr(aux, attr) is not None and getattr(aux, attr) != value:
                raise r.fail(f"{word} given twice with different values", key)
            setattr(aux, attr, value)
        elif word == "LC":
            layouts.add("positional")
            aux.variables.append(r.take(key).text)
        elif word == "LR":
            layouts.add("positional")
            aux.rows.append(r.take(key).text)
        elif word == "LO":
            layouts.add("positional")
            aux.coefficients.append(r.number(key, float))
        elif word == "OS":
            value = r.number(key, float)
            if value not in (1.0, -1.0):
                raise r.fail(f"OS {value:g}: the follower's sense is 1 (min) or -1 (max)", key)
            aux.sense, aux.sense_source = ("min" if value == 1 else "max"), f"OS {value:g}"
        elif word == "@OBJSENSE":
            value = r.take(key).text
            if value.upper() not in ("MIN", "MAX"):
                raise r.fail(f"@OBJSENSE {value!r}: expected MIN or MAX", key)
            aux.sense, aux.sense_source = value.lower(), f"@OBJSENSE {value.upper()}"
        elif word == "@VARSBEGIN":
            layouts.add("keyword")
            section = list(r.section(_VARS_END))
            if len(section) % 2:
                raise r.fail(f"@VARSBEGIN: {section[-1].text!r} has no objective "
                             "coefficient (each line is: name coefficient)", section[-1])
            for name, coef in zip(section[::2], section[1::2], strict=True):
                try:
                    value = float(coef.text)
                except ValueError:
                    raise r.fail(f"@VARSBEGIN: coefficient {coef.text!r} of {name.text!r} is "
                                 "not a number", coef) from None
                if not math.isfinite(value):
                    raise r.fail(f"@VARSBEGIN: coefficient of {name.text!r} is not finite", coef)
                aux.variables.append(name.text)
                aux.coefficients.append(value)
        elif word in _CONSTRS_BEGIN:
            layouts.add("keyword")
            aux.rows += [t.text for t in r.section(_CONSTRS_END)]
        elif word in _VARS_END or word in _CONSTRS_END:
            continue  # an end marker without its section's content: nothing to do
        elif word == "@NAME":
            aux.name = r.rest_of_line(key)
        elif word == "@MPS":
            aux.mps = r.rest_of_line(key)
        elif word == "@LP":
            raise r.fail("@LP instance files are not supported here: give the instance as "
                         "an MPS file (@MPS)", key)
        elif word in ("IC", "IB"):
            raise r.fail(f"{word}: an interdiction instance (interdiction costs and budget) "
                         "is outside gridbench's bilevel engine", key)
        else:
            raise r.fail(f"unknown entry {word!r} (expected the MibS keywords @NUMVARS, "
                         "@NUMCONSTRS, @VARSBEGIN, @CONSTRSBEGIN, @NAME, @MPS, @OBJSENSE or "
                         "the positional N, M, LC, LR, LO, OS)", key)
    if len(layouts) > 1:
        raise r.fail("mixes the keyword (@VARSBEGIN/@CONSTRSBEGIN) and positional "
                     "(LC/LR/LO) formats")
    aux.layout = layouts.pop() if layouts else "keyword"
    if not aux.variables:
        raise r.fail("names no follower (lower-level) variable")
    if len(aux.coefficients) != len(aux.variables):
        raise r.fail(f"{len(aux.variables)} follower variables (LC) but "
                     f"{len(aux.coefficients)} objective coefficients (LO)")
    if aux.n_vars is not None and aux.n_vars != len(aux.variables):
        raise r.fail(f"says {aux.n_vars} follower variables (N / @NUMVARS) but lists "
                     f"{len(aux.variables)}")
    if aux.n_constrs is not None and aux.n_constrs != len(aux.rows):
        raise r.fail(f"says {aux.n_constrs} follower rows (M / @NUMCONSTRS) but lists "
                     f"{len(aux.rows)}")
    return aux


# --------------------------------------------------------------------------- MPS via HiGHS


@dataclass
class MpsModel:
    """The MPS file as HiGHS reads it."""

    path: Path
    col_names: list[str]
    row_names: list[str]
    cost: np.ndarray
    offset: float
    sense: str  # min | max
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    matrix: sp.csr_matrix  # rows x columns
    integer: np.ndarray  # bool per column
    other_type: dict[str, str]  # column -> a type the engine has no use for (semi-*)
    highs_version: str


def _highspy():
    try:
        import highspy
    except ImportError:
        raise MibsError("the MibS format needs HiGHS to read and write MPS files: "
                        "pip install highspy") from None
    return highspy


def _new_highs(highspy):
    from bench.capture import captured_output

    with captured_output(None):  # the banner a new HiGHS prints before any option is set
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs


def read_mps(path: Path) -> MpsModel:
    """Read an ``.mps`` or ``.mps.gz`` file with HiGHS (a gzip file is unpacked first: not
    every HiGHS build reads one itself)."""
    from bench.capture import captured_output

    highspy = _highspy()
    highs = _new_highs(highspy)
    with tempfile.TemporaryDirectory(prefix="gridbench-mps-") as tmp:
        source = path
        if path.name.endswith(".gz"):
            source = Path(tmp) / path.name[:-3]
            try:
                with gzip.open(path, "rb") as packed, open(source, "wb") as plain:
                    shutil.copyfileobj(packed, plain)
            except (OSError, EOFError) as exc:
                raise MibsError(f"{path}: cannot unpack: {exc}") from None
        with captured_output(None):
            status = highs.readModel(str(source))
    if status == highspy.HighsStatus.kError:
        raise MibsError(f"{path}: HiGHS cannot read it as an MPS file")
    lp = highs.getLp()
    a = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    parts = (np.asarray(a.value_, float), np.asarray(a.index_), np.asarray(a.start_))
    matrix = (sp.csc_matrix(parts, shape=shape) if a.format_ == highspy.MatrixFormat.kColwise
              else sp.csr_matrix(parts, shape=shape)).tocsr()
    kinds = list(lp.integrality_) or [highspy.HighsVarType.kContinuous] * lp.num_col_
    names = list(lp.col_names_)
    integer = np.array([k == highspy.HighsVarType.kInteger for k in kinds], bool)
    other = {names[j]: str(k).rsplit(".", 1)[-1].removeprefix("k").lower()
             for j, k in enumerate(kinds)
             if k not in (highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous)}
    return MpsModel(
        path=path, col_names=names, row_names=list(lp.row_names_),
        cost=np.asarray(lp.col_cost_, float), offset=float(lp.offset_),
        sense="max" if lp.sense_ == highspy.ObjSense.kMaximize else "min",
        col_lower=np.asarray(lp.col_lower_, float), col_upper=np.asarray(lp.col_upper_, float),
        row_lower=np.asarray(lp.row_lower_, float), row_upper=np.asarray(lp.row_upper_, float),
        matrix=matrix, integer=integer, other_type=other,
        highs_version=highs.version() if hasattr(highs, "version") else "")


# --------------------------------------------------------------------------- read


def _mps_candidates(aux_path: Path, named: str | None) -> list[Path]:
    folder = aux_path.parent
    if named is not None:
        given = folder / named
        found = [given, Path(f"{given}.gz")]
        if Path(named).name != named:  # a path written on another machine: its file name
            found += [folder / Path(named).name, folder / f"{Path(named).name}.gz"]
        return found
    return [aux_path.with_suffix(".mps"), aux_path.with_suffix(".mps.gz")]


def find_mps(aux_path: Path, named: str | None = None) -> Path:
    """The MPS file of an aux file: the one ``@MPS`` names (beside the aux file; ``.gz``
    too), else the aux file's stem with ``.mps`` or ``.mps.gz``."""
    candidates = _mps_candidates(aux_path, named)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    said = f" (@MPS {named})" if named is not None else ""
    raise MibsError(f"{aux_path}: no MPS file{said}: looked for "
                    f"{', '.join(str(c) for c in candidates)}")


def _resolve(tokens: list[str], names: list[str], what: str, aux: AuxData) -> list[int]:
    index = {name: k for k, name in enumerate(names)}
    found = []
    for token in tokens:
        if aux.layout == "positional" and token.isdigit():
            k = int(token)
            if k >= len(names):
                raise MibsError(f"{aux.path}: {what} index {k} is beyond the MPS file's "
                                f"{len(names)} {what}s (indices start at 0)")
        elif token in index:
            k = index[token]
        else:
            raise MibsError(f"{aux.path}: {what} {token!r} is not in the MPS file")
        if k in found:
            raise MibsError(f"{aux.path}: {what} {names[k]!r} is named twice")
        found.append(k)
    return found


def _terms(row: sp.csr_matrix, names: list[str]) -> dict[str, float]:
    return {names[j]: float(v) for j, v in zip(row.indices, row.data, strict=True) if v != 0}


def _case_name(aux: AuxData) -> str:
    text = aux.name if aux.name else aux.path.name.removesuffix(".aux")
    return re.sub(r"\s+", "_", text.strip()) or "mibs_instance"


def read_mibs(aux_path: str | Path) -> dict[str, Any]:
    """A MibS / BOBILib instance (``aux_path`` and its MPS file) as the raw dict of a
    ``bilevel_textbook`` case file (``[case]`` and ``[data]``, as ``read_toml`` returns
    one); every problem with the files is a one-line :class:`MibsError`."""
    path = Path(aux_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MibsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise MibsError(f"{path}: not UTF-8 text (byte offset {exc.start})") from None
    aux = parse_aux(path, text)
    mps = read_mps(find_mps(path, aux.mps))
    followers = _resolve(aux.variables, mps.col_names, "column", aux)
    follower_rows = _resolve(aux.rows, mps.row_names, "row", aux)
    for j in followers:
        name = mps.col_names[j]
        if mps.integer[j] or name in mps.other_type:
            kind = mps.other_type.get(name, "integer")
            raise MibsError(f"{path}: follower variable {name!r} is {kind}: gridbench's "
                            "bilevel engine needs a continuous (LP) follower")
    if mps.other_type:
        name, kind = next(iter(mps.other_type.items()))
        raise MibsError(f"{mps.path}: column {name!r} has type {kind}, which the engine "
                        "cannot state (continuous and integer variables only)")

    is_follower = set(followers)
    leader_cols = [j for j in range(len(mps.col_names)) if j not in is_follower]
    leader = []
    for j in leader_cols:
        entry: dict[str, Any] = {"name": mps.col_names[j], "lower": float(mps.col_lower[j]),
                                 "upper": float(mps.col_upper[j])}
        if mps.integer[j]:
            entry["integer"] = True
        leader.append(entry)
    follower = [{"name": mps.col_names[j], "lower": float(mps.col_lower[j]),
                 "upper": float(mps.col_upper[j])} for j in followers]

    names = mps.col_names
    leader_objective: dict[str, Any] = {
        "sense": mps.sense,
        "terms": {names[j]: float(c) for j, c in enumerate(mps.cost) if c != 0}}
    if mps.offset != 0:
        leader_objective["constant"] = mps.offset
    follower_objective = {
        "sense": aux.sense,
        "terms": {names[j]: float(c) for j, c in zip(followers, aux.coefficients, strict=True)
                  if c != 0}}

    split, free = [], []

    def rows_of(indices: list[int]) -> list[dict[str, Any]]:
        out = []
        for i in indices:
            name, terms = mps.row_names[i], _terms(mps.matrix[i], names)
            lo, up = float(mps.row_lower[i]), float(mps.row_upper[i])
            if lo == up:
                out.append({"name": name, "terms": terms, "sense": EQ, "rhs": lo})
            elif math.isfinite(lo) and math.isfinite(up):
                split.append(name)
                out.append({"name": f"{name}_lo", "terms": terms, "sense": GE, "rhs": lo})
                out.append({"name": f"{name}_up", "terms": dict(terms), "sense": LE,
                            "rhs": up})
            elif math.isfinite(lo):
                out.append({"name": name, "terms": terms, "sense": GE, "rhs": lo})
            elif math.isfinite(up):
                out.append({"name": name, "terms": terms, "sense": LE, "rhs": up})
            else:
                free.append(name)
        return out

    in_follower = set(follower_rows)
    follower_constraints = rows_of(follower_rows)
    leader_constraints = rows_of([i for i in range(len(mps.row_names)) if i not in in_follower])

    name = _case_name(aux)
    n_int = sum(1 for entry in leader if entry.get("integer"))
    assumptions = [
        f"Read as a MibS {aux.layout} aux file with its MPS file {mps.path.name} (read by "
        f"HiGHS {mps.highs_version or '(highspy)'}): the variables and rows the aux file names "
        f"({len(followers)} and {len(follower_rows)}) are the follower's, every other one the "
        "leader's; bounds of a follower variable belong to the follower's problem (MibS's "
        "reading).",
        f"The leader's objective is the MPS objective, sense {mps.sense} "
        + ("(the file's OBJSENSE section: MibS itself would minimise)" if mps.sense == "max"
           else "(MPS default)")
        + (f", constant {mps.offset:g} (the negated right-hand side of the objective row)"
           if mps.offset else "") + ".",
        f"The follower {'maximises' if aux.sense == 'max' else 'minimises'} the aux file's "
        "coefficients ("
        + (aux.sense_source if aux.sense_source else "no sense given: MibS minimises") + ").",
        "An integer column the MPS file declares between MARKER lines without bounds is "
        "binary (the MPS convention HiGHS and MibS's CoinMpsIO share); integer leaders "
        f"here: {n_int}.",
    ]
    if aux.layout == "positional" and any(t.isdigit() for t in aux.variables + aux.rows):
        assumptions.append("LC/LR indices are 0-based positions in the MPS file's column "
                           "and row order, the objective row not counted (MibS's "
                           "indexBased reading).")
    if split:
        assumptions.append("Ranged rows (finite lower and upper bound) are split into "
                           f"NAME_lo (>=) and NAME_up (<=): {', '.join(split)}.")
    if free:
        assumptions.append(f"Free rows (no finite bound) are dropped: {', '.join(free)}.")
    if aux.name and aux.name != name:
        assumptions.append(f"The case name is the aux file's @NAME {aux.name!r} with "
                           "whitespace replaced by '_'.")
    return {
        "case": {
            "name": name,
            "formulation": FORMULATION,
            "description": (f"MibS/BOBILib instance {aux.name or path.stem}: leader "
                            f"variables {len(leader)} ({n_int} integer), follower variables "
                            f"{len(follower)}, follower rows {len(follower_constraints)}, "
                            f"leader rows {len(leader_constraints)}"),
            "fidelity": "exact",
            "provenance": f"{path} and {mps.path} (MibS / BOBILib instance format)",
            "assumptions": assumptions,
        },
        "data": {
            "leader": leader,
            "follower": follower,
            "leader_objective": leader_objective,
            "follower_objective": follower_objective,
            "follower_constraints": follower_constraints,
            "leader_constraints": leader_constraints,
        },
    }


# --------------------------------------------------------------------------- write


def _grid_is_integers(values: np.ndarray) -> bool:
    lo, hi = values[0], values[-1]
    return (float(lo).is_integer() and float(hi).is_integer()
            and np.array_equal(values, np.arange(lo, hi + 1)))


def _check_names(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if not name or re.search(r"\s", name) or name.startswith("@"):
            raise MibsError(f"{what} name {name!r}: an MPS/aux name must be non-empty, "
                            "without whitespace and not start with '@'")
        if name in seen:
            raise MibsError(f"{what} name {name!r} is used twice: MPS names are unique")
        seen.add(name)


def export_notes(problem: BilevelProblem, label: str | None = None) -> list[str]:
    """Raise :class:`MibsError` for what the format cannot hold (the message starts with
    ``label``, default the problem's name); return what the written files state
    differently from ``problem`` (the same problem in another form)."""
    label = label or problem.name
    if problem.Q.nnz:
        k, j = problem.Q.tocoo().row[0], problem.Q.tocoo().col[0]
        raise MibsError(f"{label}: the leader's objective has {problem.Q.nnz} leader x "
                        f"follower product terms (e.g. {problem.leader_names[k]} x "
                        f"{problem.follower_names[j]}): the MibS format is linear")
    if problem.C.nnz:
        j, k = problem.C.tocoo().row[0], problem.C.tocoo().col[0]
        raise MibsError(f"{label}: the follower's objective has {problem.C.nnz} leader "
                        f"x follower product terms (e.g. {problem.leader_names[k]} x "
                        f"{problem.follower_names[j]}): the MibS format's follower "
                        "coefficients are constants")
    notes = []
    for k, kind in enumerate(problem.leader_kind):
        if kind == GRID:
            values = problem.leader_grid[k]
            if not _grid_is_integers(values):
                raise MibsError(f"{label}: leader {problem.leader_names[k]} is "
                                f"restricted to a grid of {len(values)} values that are not "
                                "the integers from its lower to its upper bound: the MibS "
                                "format has continuous and integer variables only")
    gridded = [problem.leader_names[k] for k, kind in enumerate(problem.leader_kind)
               if kind == GRID]
    if gridded:
        notes.append(f"grid leaders written as integers (their grids are the integers "
                     f"between their bounds): {', '.join(gridded)}")
    _check_names([*problem.leader_names, *problem.follower_names], "variable")
    _check_names([*problem.row_names, *problem.leader_row_names], "row")
    if "Obj" in (*problem.row_names, *problem.leader_row_names):
        raise MibsError(f"{label}: a row named 'Obj' would clash with the objective "
                        "row HiGHS writes")
    if problem.leader_sense == "max":
        notes.append("the leader maximises: its objective is written negated, as a "
                     "minimisation (MibS reads every MPS objective as one)")
    if problem.follower_sense == "max":
        notes.append("the follower maximises: its aux coefficients are negated, as a "
                     "minimisation (as MibS's own writer does)")
    if np.any(problem.follower_const_x != 0) or problem.follower_const != 0:
        notes.append("the follower objective's terms in leader variables and its constant "
                     "are dropped (constant for the follower: they do not change its answer)")
    return notes


def _row_bounds(rhs: np.ndarray, senses: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``row (sense) rhs`` as ``lower <= row <= upper``."""
    kinds = np.asarray(senses, dtype=object)
    rhs = np.asarray(rhs, float)
    lower = np.where((kinds == GE) | (kinds == EQ), rhs, -np.inf)
    upper = np.where((kinds == LE) | (kinds == EQ), rhs, np.inf)
    return lower.astype(float), upper.astype(float)


def write_mibs(problem: BilevelProblem, directory: str | Path, stem: str, *,
               origin: str | None = None) -> tuple[Path, Path]:
    """Write ``problem`` as ``directory/stem.mps`` and ``directory/stem.aux`` (keyword format,
    in the order MibS's own writer uses; ``origin``, e.g. the case's name, goes into the MPS
    file's header comment). Raises :class:`MibsError` for what the format cannot hold:
    leader x follower products in either objective, a grid leader whose grid is not the
    integers between its bounds, names MPS cannot carry."""
    from bench.outputs import write_text

    notes = export_notes(problem, stem)
    if not stem or re.search(r"[\s/\\]", stem):
        raise MibsError(f"file stem {stem!r}: no whitespace or path separators")
    folder = Path(directory)
    highspy = _highspy()
    n_x, n_y = problem.n_x, problem.n_y
    lead = 1.0 if problem.leader_sense == "min" else -1.0
    follow = 1.0 if problem.follower_sense == "min" else -1.0

    # follower rows  A y - B x (sense) b0; leader rows  Gx x + Gy y (sense) h
    follower_rows = sp.hstack([-problem.B, problem.A], format="csr")
    leader_rows = sp.hstack([problem.Gx, problem.Gy], format="csr")
    matrix = sp.vstack([follower_rows, leader_rows], format="csc")
    matrix.sort_indices()
    f_lo, f_up = _row_bounds(problem.b0, problem.row_sense)
    l_lo, l_up = _row_bounds(problem.h, problem.leader_row_sense)

    lp = highspy.HighsLp()
    lp.model_name_ = stem
    lp.num_col_, lp.num_row_ = n_x + n_y, matrix.shape[0]
    lp.col_cost_ = lead * np.concatenate([problem.fx, problem.fy]).astype(float)
    lp.offset_ = lead * float(problem.leader_const)
    lp.col_lower_ = np.concatenate([problem.leader_lower, problem.follower_lower]).astype(float)
    lp.col_upper_ = np.concatenate([problem.leader_upper, problem.follower_upper]).astype(float)
    lp.row_lower_ = np.concatenate([f_lo, l_lo])
    lp.row_upper_ = np.concatenate([f_up, l_up])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_x + n_y, matrix.shape[0]
    integer = highspy.HighsVarType.kInteger
    continuous = highspy.HighsVarType.kContinuous
    lp.integrality_ = [integer if kind in (INTEGER, GRID) else continuous
                       for kind in problem.leader_kind] + [continuous] * n_y
    lp.col_names_ = [*problem.leader_names, *problem.follower_names]
    lp.row_names_ = [*problem.row_names, *problem.leader_row_names]

    highs = _new_highs(highspy)
    from bench.capture import captured_output

    with tempfile.TemporaryDirectory(prefix="gridbench-mps-") as tmp:
        written = Path(tmp) / f"{stem}.mps"
        with captured_output(None):
            passed = highs.passModel(lp)
            status = highs.writeModel(str(written)) if passed != highspy.HighsStatus.kError \
                else passed
        if status == highspy.HighsStatus.kError or not written.is_file():
            raise MibsError(f"{stem}: HiGHS could not write the MPS file")
        mps_text = written.read_text(encoding="utf-8")
    header = [f"* {stem}: written by gridbench (export-mibs) from {origin or problem.name}",
              f"* the follower's variables and rows are named in {stem}.aux (MibS format)",
              *(f"* {note}" for note in notes)]
    mps_path, aux_path = folder / f"{stem}.mps", folder / f"{stem}.aux"
    write_text(mps_path, "\n".join(header) + "\n" + mps_text)

    # the follower's coefficients for a minimisation (no @OBJSENSE: MibS's writer and
    # idol's strict reader both use this form). The follower objective's terms in leader
    # variables (follower_const_x) and its constant are constant for the follower: they
    # cannot change its answer, and the aux format has no place for them: dropped.
    coefficients = follow * problem.c0
    rows = [*problem.row_names]
    aux = ["@NUMVARS", str(n_y), "@NUMCONSTRS", str(len(rows)), "@VARSBEGIN",
           *(f"{name} {float(c) + 0.0!r}" for name, c in zip(problem.follower_names,
                                                              coefficients, strict=True)),
           "@VARSEND", "@CONSTRSBEGIN", *rows, "@CONSTRSEND", "@NAME", stem, "@MPS",
           mps_path.name]
    write_text(aux_path, "\n".join(aux) + "\n")
    return mps_path, aux_path
