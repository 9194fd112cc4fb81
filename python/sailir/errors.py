"""Errors raised by the sailir front end."""


class FamilyError(ValueError):
    """A family definition is invalid or cannot be found.

    The message is always a single line that names exactly what is wrong, so that the command
    line can print it as `sailir: error: <message>` without a traceback.
    """
