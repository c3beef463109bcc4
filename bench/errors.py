"""Errors that are the user's input, not a bug: the CLI prints them on one line, exit 2."""


class InputError(ValueError):
    """Bad input: a case file, a reference file, a spec, a filter that matches nothing."""
