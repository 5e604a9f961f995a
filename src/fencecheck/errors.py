"""The exceptions and warnings fencecheck raises.

One base class, :class:`FenceCheckError`, catches everything the library raises on
purpose. Errors about the data also derive from :class:`ValueError`, so code that
already catches ``ValueError`` keeps working, and they carry the source, the row or
feature, the field and the reason as attributes as well as in the message.

Examples
--------
>>> from fencecheck.errors import PingDataError, FenceCheckError
>>> err = PingDataError("accuracy is negative", source="pings.csv", row=7,
...                     field="accuracy_m")
>>> str(err)
'pings.csv: row 7: accuracy_m: accuracy is negative'
>>> isinstance(err, ValueError) and isinstance(err, FenceCheckError)
True
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "FenceCheckError",
    "FenceCheckWarning",
    "FenceDataError",
    "MissingDependencyError",
    "OptionError",
    "PingDataError",
]


class FenceCheckError(Exception):
    """Base class of every error fencecheck raises on purpose."""


class OptionError(FenceCheckError, ValueError):
    """An option or argument has a value the library does not accept."""


class MissingDependencyError(FenceCheckError, ImportError):
    """An optional dependency is needed and not installed.

    The message names the extra that brings it, for example
    ``pip install 'fencecheck[parquet]'``.
    """

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the optional package {package!r}; "
            f"install it with: pip install 'fencecheck[{extra}]'"
        )


class DataError(FenceCheckError, ValueError):
    """Something in the input data is wrong; the message says where and why.

    Parameters
    ----------
    reason : str
        Why the data was refused, in plain words.
    source : str, optional
        The file (or ``"DataFrame"``, ``"GeoDataFrame"``) the data came from.
    row : int, optional
        The 0-based data row (see docs/contract.md: the header is not counted).
    feature : str, optional
        The feature's ``id`` when it has one, else ``"#N"`` for the N-th feature.
    field : str, optional
        The column or property at fault.
    line : int, optional
        The 1-based line of a text file, when it differs from the row.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str | None = None,
        row: int | None = None,
        feature: str | None = None,
        field: str | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.row = row
        self.feature = feature
        self.field = field
        self.line = line
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = []
        if self.source:
            parts.append(self.source)
        if self.row is not None:
            where = f"row {self.row}"
            if self.line is not None:
                where += f" (line {self.line})"
            parts.append(where)
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.feature is not None:
            parts.append(f"feature {self.feature}")
        if self.field:
            parts.append(self.field)
        parts.append(self.reason)
        return ": ".join(parts)

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the keyword fields when the error crosses a process boundary.
        return (
            _rebuild_data_error,
            (type(self), self.reason, self.source, self.row, self.feature, self.field, self.line),
        )


def _rebuild_data_error(
    cls: type[DataError],
    reason: str,
    source: str | None,
    row: int | None,
    feature: str | None,
    field: str | None,
    line: int | None,
) -> DataError:
    return cls(reason, source=source, row=row, feature=feature, field=field, line=line)


class FenceDataError(DataError):
    """A fence feature (or the fence file) cannot be used."""


class PingDataError(DataError):
    """A ping row (or the ping file) cannot be used."""


class FenceCheckWarning(UserWarning):
    """Something was accepted but deserves a look (for example a never-active fence)."""
