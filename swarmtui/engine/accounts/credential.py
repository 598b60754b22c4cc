"""An account's key, read when an attempt starts, and the attempt's environment with it.

The key comes from the variable of the supervisor's environment the account names (``env``)
or from its file (``file``, read now, never stored). It goes into the attempt's environment
under the variable its CLI reads (``adapters/credentials.py``); every other account's source
variable and every competing credential variable of that CLI are taken out, so the attempt
authenticates as its account and no other key reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from swarmtui.config import AccountConfig
from swarmtui.engine.adapters.credentials import competing, key_variables
from swarmtui.engine.runtime.files import read_key_file


class NoCredential(Exception):
    """The account's key could not be had (the message says where it was looked for)."""


def credential(acct: AccountConfig, caller_env: Mapping[str, str]) -> str:
    if acct.env:
        key = caller_env.get(acct.env, "").strip()
        if not key:
            raise NoCredential(f"account {acct.name!r}: ${acct.env} is not set in the "
                               "supervisor's environment (start the run where it is set)")
        return key
    try:
        key = read_key_file(acct.file)
    except OSError as e:
        raise NoCredential(f"account {acct.name!r}: cannot read its key file {acct.file}: "
                           f"{e.strerror or e}") from None
    if not key:
        raise NoCredential(f"account {acct.name!r}: its key file {acct.file} is empty")
    return key


def with_account(env: Mapping[str, str], acct: AccountConfig, key: str,
                 accounts: Sequence[AccountConfig], argv: Sequence[str]) -> dict[str, str]:
    """``env`` authenticating as ``acct`` (and as nothing else)."""
    drop = set(competing(acct.cli, argv)) | {a.env for a in accounts if a.env}
    out = {k: v for k, v in env.items() if k not in drop}
    for name in key_variables(acct.cli, argv, key, acct.variable):
        out[name] = key
    return out


def key_names(acct: AccountConfig | None) -> list[str]:
    """Names of the attempt's environment that hold its account's key, beyond those named like
    secrets (``KEY``, ``TOKEN``): the wrapper redacts their values from what it records."""
    return [acct.variable] if acct is not None and acct.variable else []
