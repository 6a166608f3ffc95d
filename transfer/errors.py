"""Exceptions shared by the programs."""


class UserError(Exception):
    """A problem the user can fix (bad flag, port in use, missing folder).

    The CLI prints its message as one line and exits with status 2.
    """


class ProtocolError(Exception):
    """A peer sent something that breaks the wire protocol."""


class TransferFailed(Exception):
    """A transfer ended without a verified file; the message is the reason."""
