"""Plugin loading and the registry of everything plugins contribute.

Loading follows pytest's model: entry points of the ``gridbench`` group are imported one by
one; a plugin that fails to import, to register or to validate, or that raises in a hook, is
recorded as a :class:`PluginProblem` and skipped, and the rest carries on.

Control from the environment (or the CLI's ``-p`` option):

* ``GRIDBENCH_DISABLE_PLUGIN_AUTOLOAD=1`` loads no entry point unless named with ``-p NAME``
  (or listed in ``GRIDBENCH_PLUGINS=a,b``);
* ``-p package.module`` loads a plugin module that is not an installed entry point;
* ``-p no:NAME`` (or ``GRIDBENCH_BLOCK_PLUGINS=a,b``) blocks an entry point by name.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

import pluggy

from bench import hookspecs
from bench.errors import short_error
from bench.records import (
    Backend,
    Benchmark,
    CaseSource,
    Formulation,
    PluginProblem,
    SolverSpec,
    resolve,
)

ENV_DISABLE_AUTOLOAD = "GRIDBENCH_DISABLE_PLUGIN_AUTOLOAD"
ENV_PLUGINS = "GRIDBENCH_PLUGINS"
ENV_BLOCK = "GRIDBENCH_BLOCK_PLUGINS"


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


@dataclass
class PluginInfo:
    name: str
    distribution: str
    version: str
    module: str


@dataclass
class Registry:
    """Everything the loaded plugins contribute, keyed by name."""

    plugins: list[PluginInfo] = field(default_factory=list)
    problems: list[PluginProblem] = field(default_factory=list)
    backends: dict[str, Backend] = field(default_factory=dict)
    solvers: dict[tuple[str, str], SolverSpec] = field(default_factory=dict)
    formulations: dict[str, Formulation] = field(default_factory=dict)
    cases: dict[str, CaseSource] = field(default_factory=dict)
    reference_files: list[Path] = field(default_factory=list)
    benchmarks: dict[str, Benchmark] = field(default_factory=dict)
    commands: dict[str, Any] = field(default_factory=dict)  # click commands
    # which plugin contributed what, for `gridbench list`
    owner: dict[tuple[str, str], str] = field(default_factory=dict)

    def solvers_for(self, backend: str) -> list[SolverSpec]:
        return [spec for (b, _), spec in self.solvers.items() if b == backend]


class PluginHost:
    """Loads plugins into a pluggy manager and collects their contributions."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self._dist_of: dict[str, tuple[str, str]] = {}
        self._clashes: set[tuple[str, str]] = set()  # names two plugins offered

    # ------------------------------------------------------------------ loading

    def load(
        self,
        *,
        autoload: bool | None = None,
        requested: Sequence[str] = (),
        blocked: Sequence[str] = (),
        extra_plugins: Iterable[tuple[str, Any]] = (),
    ) -> Registry:
        """Load entry-point plugins (and ``extra_plugins`` given as objects), then collect."""
        if autoload is None:
            autoload = not os.environ.get(ENV_DISABLE_AUTOLOAD)
        requested = [*requested, *_env_list(ENV_PLUGINS)]
        blocked_set = {*blocked, *_env_list(ENV_BLOCK)}
        for name in blocked_set:
            self.pm.set_blocked(name)

        for ep in self._entry_points():
            if ep.name in blocked_set:
                continue
            if not autoload and ep.name not in requested:
                continue
            self._load_entry_point(ep)
        known = {ep.name for ep in self._entry_points()}
        for name in requested:
            if name not in known and name not in blocked_set:
                self._load_module(name)
        for name, plugin in extra_plugins:
            self._register(name, plugin, ("(in-process)", ""))
        self._register_harness_plugins(blocked_set, autoload, requested)
        self._validate()
        self._collect()
        return self.registry

    def _register_harness_plugins(self, blocked: set[str], autoload: bool,
                                  requested: Sequence[str]) -> None:
        """Plugins that come with the harness (the bilevel engine's oracle backend): loaded
        like pytest's own plugins, unless blocked (or autoload is off and not requested)."""
        from bench.bilevel import engine_plugin

        name = engine_plugin.NAME
        if name in blocked or (not autoload and name not in requested):
            return
        from bench import __version__

        self._register(name, engine_plugin, ("gridbench", __version__))

    @staticmethod
    def _entry_points() -> list[EntryPoint]:
        return sorted(entry_points(group=hookspecs.PROJECT_NAME), key=lambda ep: ep.name)

    def _load_entry_point(self, ep: EntryPoint) -> None:
        dist = (ep.dist.name, ep.dist.version) if ep.dist is not None else ("?", "")
        if self.pm.get_plugin(ep.name) is not None:
            return
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken plugin must not stop the suite
            self._problem(ep.name, dist[0], "import", short_error(exc))
            return
        self._register(ep.name, plugin, dist)

    def _load_module(self, name: str) -> None:
        """``-p package.module``: a plugin module that is not installed as an entry point."""
        try:
            plugin = importlib.import_module(name)
        except Exception as exc:
            self._problem(name, "", "import", f"no entry point named {name!r} in group "
                          f"{hookspecs.PROJECT_NAME!r}, and as a module: {short_error(exc)}")
            return
        self._register(name, plugin, ("(module)", ""))

    def _register(self, name: str, plugin: Any, dist: tuple[str, str]) -> None:
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            self._problem(name, dist[0], "register", short_error(exc))
            return
        self._dist_of[name] = dist
        module = getattr(plugin, "__name__", type(plugin).__name__)
        self.registry.plugins.append(PluginInfo(name, dist[0], dist[1], module))

    def _validate(self) -> None:
        """``check_pending``: a hook implementation without a spec is a typo; drop that plugin."""
        while True:
            try:
                self.pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or str(exc.plugin)
                self._problem(name, self._dist_of.get(name, ("?", ""))[0], "validate", str(exc))
                self.pm.unregister(exc.plugin)
                self.registry.plugins = [p for p in self.registry.plugins if p.name != name]

    def _problem(self, plugin: str, dist: str, stage: str, error: str) -> None:
        self.registry.problems.append(PluginProblem(plugin, dist, stage, error))

    # ------------------------------------------------------------------ collecting

    HOOKS = ("gridbench_backends", "gridbench_solvers", "gridbench_formulations",
             "gridbench_cases", "gridbench_references", "gridbench_benchmarks",
             "gridbench_commands")

    def _gather(self) -> dict[str, dict[str, list[Any]]]:
        """Call every hook on every plugin separately. A plugin that raises in any hook, or
        returns something that is not a list of what the hook promises, is reported and
        skipped as a whole: none of its contributions is kept."""
        gathered: dict[str, dict[str, list[Any]]] = {}
        failed: set[str] = set()
        for hook_name in self.HOOKS:
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                name = impl.plugin_name
                try:
                    items = _checked_items(hook_name, impl.function())
                except Exception as exc:
                    self._problem(name, self._dist_of.get(name, ("?",))[0],
                                  f"hook {hook_name}", short_error(exc))
                    failed.add(name)
                    continue
                gathered.setdefault(name, {}).setdefault(hook_name, []).extend(items)
        for name in failed:
            gathered.pop(name, None)
            self.pm.unregister(name=name)
            self.registry.plugins = [p for p in self.registry.plugins if p.name != name]
        return gathered

    def _collect(self) -> None:
        reg = self.registry
        gathered = self._gather()
        order = [p.name for p in reg.plugins]  # registration order

        def each(hook_name: str) -> Iterable[tuple[str, Any]]:
            for plugin in order:
                for item in gathered.get(plugin, {}).get(hook_name, ()):
                    yield plugin, item

        for plugin, backend in each("gridbench_backends"):
            self._add(reg.backends, backend.name, backend, "backend", plugin)
        for plugin, solver in each("gridbench_solvers"):
            self._add(reg.solvers, (solver.backend, solver.name), solver, "solver", plugin)
        for plugin, formulation in each("gridbench_formulations"):
            self._add(reg.formulations, formulation.name, formulation, "formulation", plugin)
        for plugin, case in each("gridbench_cases"):
            self._add(reg.cases, case.name, case, "case", plugin)
        for plugin, path in each("gridbench_references"):
            reg.reference_files.append(Path(path))
            reg.owner[("reference", str(path))] = plugin
        for plugin, benchmark in each("gridbench_benchmarks"):
            self._add(reg.benchmarks, benchmark.name, benchmark, "benchmark", plugin)
        for plugin, command in each("gridbench_commands"):
            self._add(reg.commands, command.name, command, "command", plugin)

    def _add(self, table: dict, key: Any, item: Any, kind: str, plugin: str) -> None:
        """A name offered by two plugins is used from neither: both are named in a problem
        (a plugin must not take over another's formulation, solver or case silently)."""
        label = "/".join(key) if isinstance(key, tuple) else key
        first = self.registry.owner.get((kind, label))
        if first is not None:
            for who in {first, plugin}:
                self._problem(who, self._dist_of.get(who, ("?",))[0], f"hook ({kind})",
                              f"{kind} {label!r} is provided by plugins {first!r} and "
                              f"{plugin!r}; neither is used")
            table.pop(key, None)
            self._clashes.add((kind, label))
            return
        if (kind, label) in self._clashes:
            return
        table[key] = item
        self.registry.owner[(kind, label)] = plugin


def _checked_items(hook_name: str, returned: Any) -> list[Any]:
    """The hook's items, or TypeError naming what is wrong (never a crash later on)."""
    if returned is None:
        return []
    if isinstance(returned, str | bytes) or not isinstance(returned, Iterable):
        raise TypeError(f"returned {type(returned).__name__}, not a list")
    items = list(returned)
    expected = _EXPECTED[hook_name]
    for item in items:
        if not expected[0](item):
            raise TypeError(f"returned a {type(item).__name__} where a list of {expected[1]} "
                            "is expected")
    return items


def _is_backend(item: Any) -> bool:
    return isinstance(getattr(item, "name", None), str) and all(
        callable(getattr(item, attr, None))
        for attr in ("available", "version", "solve", "model_size"))


def _is_command(item: Any) -> bool:
    import click

    return isinstance(item, click.Command)


_EXPECTED: dict[str, tuple[Any, str]] = {
    "gridbench_backends": (_is_backend, "backend adapters (name, available, version, solve, "
                                        "model_size)"),
    "gridbench_solvers": (lambda item: isinstance(item, SolverSpec), "SolverSpec"),
    "gridbench_formulations": (lambda item: isinstance(item, Formulation), "Formulation"),
    "gridbench_cases": (lambda item: isinstance(item, CaseSource), "CaseSource"),
    "gridbench_references": (lambda item: isinstance(item, str | os.PathLike), "paths"),
    "gridbench_benchmarks": (lambda item: isinstance(item, Benchmark), "Benchmark"),
    "gridbench_commands": (_is_command, "click commands"),
}


def load_registry(
    *,
    autoload: bool | None = None,
    requested: Sequence[str] = (),
    blocked: Sequence[str] = (),
    extra_plugins: Iterable[tuple[str, Any]] = (),
) -> Registry:
    return PluginHost().load(
        autoload=autoload, requested=requested, blocked=blocked, extra_plugins=extra_plugins
    )


# --------------------------------------------------------------------------- bilevel cases


def bilevel_problem(registry: Registry, case: str) -> Any:
    """The engine's matrix form (``bench.bilevel.BilevelProblem``) of the registered case
    ``case``, from its formulation's declared ``bilevel_problem``. An unknown case, a
    formulation that declares none, a case that does not validate or that the engine cannot
    state is an :class:`~bench.errors.InputError` (one line)."""
    from bench.bilevel.problem import BilevelError
    from bench.cases import load_case
    from bench.errors import InputError

    source = registry.cases.get(case)
    if source is None:
        raise InputError(f"unknown case {case!r} (`gridbench list` shows the cases)")
    formulation = registry.formulations.get(source.formulation)
    if formulation is None:
        raise InputError(f"case {case!r}: its formulation {source.formulation!r} is not "
                         "registered")
    if formulation.bilevel_problem is None:
        raise InputError(f"case {case!r}: formulation {formulation.name!r} is not a linear "
                         "bilevel formulation (it declares no bilevel_problem)")
    data = load_case(source, formulation).data
    try:
        return resolve(formulation.bilevel_problem)(data)
    except BilevelError as exc:
        raise InputError(f"case {case!r}: {exc}") from None
