"""Errors that are the user's input, not a bug: the CLI prints them on one line, exit 2."""

import traceback


class InputError(ValueError):
    """Bad input: a case file, a reference file, a spec, a filter that matches nothing."""


class NotApplicable(Exception):  # noqa: N818  (a verdict, not an error condition)
    """A variant that cannot state this case (e.g. a reformulation that needs a grid for a
    continuous leader variable). The runner records ``not_applicable``: skipped, not failed."""


def short_error(exc: BaseException) -> str:
    """An exception on one line, with where it was raised (the full traceback goes to the
    run's JSON)."""
    last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"
