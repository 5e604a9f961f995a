"""Pseudonyms for person ids: a keyed hash, the same for the same key.

Location traces are personal data. ``fencecheck match``, ``scan`` and
``companions`` take ``--pseudonymize``: every person id they write becomes
its pseudonym, the HMAC-SHA-256 of the id's UTF-8 bytes under a secret key,
written as 64 lowercase hex digits (the full digest, never cut). The same key
gives the same pseudonym, so tables from two runs still join on
``person_id``; without the key nobody can tell which id is behind one, nor
test a guessed id against it. Case ids (confirmed-case numbers, published at
the time) are kept as they are.

The key comes from the environment variable :data:`KEY_ENV`
(``FENCECHECK_KEY``) or from a key file, never from the command line (where
the shell history and the process list would keep it). :func:`load_key`
reads it and :func:`check_key` refuses an empty key and one shorter than
:data:`MIN_KEY_BYTES` (16 bytes): a short key can be found by trying every
key against one pseudonym whose id is known, and then every pseudonym made
with it is undone. ``docs/privacy.md`` says what fencecheck reads, writes and
never logs.

Hashing runs once per distinct id of the array given (a chunk of hits, a
table), not once per row.

Examples
--------
>>> key = b"a key of at least sixteen bytes"
>>> out = pseudonymize(["001", "002", "001"], key)
>>> len(out[0]), out[0] == out[2], out[0] == out[1]
(64, True, False)
>>> out[0] == pseudonymize("001", key)
True
>>> pseudonymize("001", b"another key, 16 bytes or more") == out[0]
False
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import OptionError
from fencecheck.tables import Table
from fencecheck.values import missing_objects

__all__ = [
    "KEY_ENV",
    "MIN_KEY_BYTES",
    "check_key",
    "load_key",
    "pseudonymize",
    "pseudonymize_table",
]

KEY_ENV = "FENCECHECK_KEY"
"""The environment variable that holds the pseudonym key."""
MIN_KEY_BYTES = 16
"""The shortest key accepted, in bytes (128 bits)."""

_KEY_HINT = (
    'make one with: python -c "import secrets; print(secrets.token_hex(32))" (docs/privacy.md)'
)


def check_key(key: bytes | str, source: str = "the key") -> bytes:
    """The key as bytes, or OptionError when it is empty or shorter than 16 bytes.

    Parameters
    ----------
    key : bytes or str
        The key; text is taken as its UTF-8 bytes.
    source : str
        Where the key came from, for the message (the key itself is never shown).

    Raises
    ------
    OptionError
        For an empty key, or one shorter than :data:`MIN_KEY_BYTES`.

    Examples
    --------
    >>> len(check_key("0123456789abcdef"))
    16
    >>> check_key("short")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fencecheck.errors.OptionError: the key is 5 bytes; a pseudonym key needs at least 16 bytes...
    """
    secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not secret:
        raise OptionError(f"{source} is empty; {_KEY_HINT}")
    if len(secret) < MIN_KEY_BYTES:
        raise OptionError(
            f"{source} is {len(secret)} bytes; a pseudonym key needs at least {MIN_KEY_BYTES} "
            "bytes, since a shorter one can be found by trying keys against one known person's "
            f"pseudonym, which would undo every pseudonym made with it; {_KEY_HINT}"
        )
    return secret


def load_key(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> bytes:
    """Read the pseudonym key from a key file, or else from ``FENCECHECK_KEY``.

    Parameters
    ----------
    path : path, optional
        A key file: its bytes are the key, without one trailing line break
        (so ``echo`` and editors do not change it). Keep it readable by you only.
        Given, it wins over the environment.
    environ : mapping, optional
        Where to look for :data:`KEY_ENV` (default: ``os.environ``).

    Returns
    -------
    bytes
        The key, checked by :func:`check_key`.

    Raises
    ------
    OptionError
        When there is no key, the file cannot be read, or the key is empty or
        shorter than 16 bytes. The message never shows the key.

    Examples
    --------
    >>> load_key(environ={"FENCECHECK_KEY": "0123456789abcdef0123"})
    b'0123456789abcdef0123'
    >>> load_key(environ={})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fencecheck.errors.OptionError: no pseudonym key: set the environment variable FENCECHECK_KEY...
    """
    if path is not None:
        where = f"the key file {os.fspath(path)}"
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise OptionError(
                f"{where} cannot be read ({exc.strerror or type(exc).__name__})"
            ) from None
        if raw.endswith(b"\r\n"):
            raw = raw[:-2]
        elif raw.endswith(b"\n"):
            raw = raw[:-1]
        return check_key(raw, where)
    env = os.environ if environ is None else environ
    value = env.get(KEY_ENV)
    if value is None:
        raise OptionError(
            f"no pseudonym key: set the environment variable {KEY_ENV} or give --key-file PATH "
            f"(a key is never taken from the command line); {_KEY_HINT}"
        )
    return check_key(os.fsencode(value), f"the key in {KEY_ENV}")


@overload
def pseudonymize(ids: str, key: bytes | str) -> str: ...
@overload
def pseudonymize(ids: NDArray[Any] | Sequence[Any], key: bytes | str) -> NDArray[np.object_]: ...
def pseudonymize(ids: Any, key: bytes | str) -> Any:
    """Each id's pseudonym: HMAC-SHA-256 of its UTF-8 bytes under ``key``, as 64 hex digits.

    Parameters
    ----------
    ids : str, or array_like of str
        One id, or an array, list or pandas Series of ids. Values that are not
        text are hashed as their ``str()``; missing values (None, NaN) and empty
        text are returned as they are: they name nobody.
    key : bytes or str
        The key (text as UTF-8), at least 16 bytes.

    Returns
    -------
    str or ndarray of object
        One pseudonym for one id; else an object array of the input's length.

    Raises
    ------
    OptionError
        For an empty or short key (:func:`check_key`).

    Examples
    --------
    >>> import hmac, hashlib
    >>> key = b"0123456789abcdef"
    >>> pseudonymize("P01", key) == hmac.new(key, b"P01", hashlib.sha256).hexdigest()
    True
    >>> out = pseudonymize(np.array(["P01", "", None], dtype=object), key)
    >>> out[0] == pseudonymize("P01", key), out[1:].tolist()
    (True, ['', None])
    """
    keyed = hmac.new(check_key(key), digestmod=hashlib.sha256)
    if isinstance(ids, str):
        return _digest(keyed, ids) if ids else ids
    values = np.asarray(ids, dtype=object).reshape(-1)
    out = values.copy()
    if values.shape[0] == 0:
        return out
    keep = missing_objects(values)
    text = np.where(keep, "", values).astype(str)
    keep |= text == ""
    todo = np.flatnonzero(~keep)
    if todo.shape[0]:
        distinct, inverse = np.unique(text[todo], return_inverse=True)
        digests = np.empty(distinct.shape[0], dtype=object)
        digests[:] = [_digest(keyed, value) for value in distinct.tolist()]
        out[todo] = digests[inverse.reshape(-1)]
    return out


def _digest(keyed: Any, value: str) -> str:
    """One id's pseudonym, from an HMAC already keyed (copying it skips the key set-up)."""
    mac = keyed.copy()
    mac.update(value.encode("utf-8"))
    digest: str = mac.hexdigest()
    return digest


def pseudonymize_table(
    table: Table,
    key: bytes | str,
    columns: Sequence[str] = ("person_id",),
    *,
    sort: bool = True,
) -> Table:
    """A copy of a result table with its person-id columns pseudonymized.

    Parameters
    ----------
    table : Table
        For example a scan's ``people`` table or the companion pair table.
    key : bytes or str
        The key, at least 16 bytes.
    columns : sequence of str
        The columns that hold person ids (those absent from the table are skipped).
        Case ids are not person ids here: they stay as they are.
    sort : bool
        Order the rows by the first column's pseudonym (stable), so that the
        order of the rows does not give away the order of the real ids.

    Returns
    -------
    Table
        A new table; ``table`` is not changed.

    Examples
    --------
    >>> table = Table({"person_id": np.array(["b", "a"], dtype=object),
    ...                "case_id": np.array(["C1", "C2"], dtype=object)})
    >>> key = b"0123456789abcdef"
    >>> out = pseudonymize_table(table, key)
    >>> sorted(out["person_id"].tolist()) == sorted(pseudonymize(["a", "b"], key).tolist())
    True
    >>> dict(zip(out["person_id"], out["case_id"]))[pseudonymize("a", key)]
    'C2'
    """
    secret = check_key(key)
    mapped = {name: values for name, values in table.columns.items()}
    present = [name for name in columns if name in mapped]
    for name in present:
        mapped[name] = pseudonymize(mapped[name], secret)
    out = Table(mapped, table.times)
    if sort and present and len(out):
        order = np.argsort(out[present[0]].astype(str), kind="stable")
        out = out.take(order)
    return out
