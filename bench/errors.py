"""Errors that are the user's input, not a bug: the CLI prints them on one line, exit 2."""


class InputError(ValueError):
    """Bad input: a case file, a reference file, a spec, a filter that matches nothing."""


class NotApplicable(Exception):  # noqa: N818  (a verdict, not an error condition)
    """A variant that cannot state this case (e.g. a reformulation that needs a grid for a
    continuous leader variable). The runner records ``not_applicable``: skipped, not failed."""
