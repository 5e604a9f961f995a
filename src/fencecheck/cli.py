"""The ``fencecheck`` command line.

Streams follow docs/contract.md: data goes to ``--out`` or stdout; summaries, progress
and warnings go to stderr. Exit codes: 0 success (rows set aside under
``--on-error reject`` count as success), 1 a data error (one line naming the
file, the row or feature, the field and the reason), 2 a usage error. Bad input
never produces a Python traceback.

Subcommands
-----------
``validate``
    Load a fence file and/or a ping file with all checks, print what was read,
    what was set aside and why, and write the rejected rows to a CSV file.
``match``
    Write every (ping, fence) hit with its evidence (docs/contract.md's hits table),
    streaming the ping file chunk by chunk; a one-line summary on stderr.
``explain``
    Judge each person's pop-up (or the ``--person`` named) and write a report
    per person: plain text (zh or en) or JSON Lines (docs/contract.md).
``scan``
    Judge everyone and write the ``people``, ``fences``, ``timeline`` and
    ``whatif`` tables into a folder; a summary table on stderr. A file larger
    than ``--batch-rows`` pings is first regrouped by person into temporary
    files (or read as it comes with ``--sorted-by-person``).
``demo``
    ``explain`` on the bundled samples (:mod:`fencecheck.samples`).

Each subcommand imports what it needs when it runs: ``match`` and ``validate``
never load the judging layer (:mod:`fencecheck.judging`), and no subcommand loads
pandas, matplotlib, GeoPandas or Dask unless its input or options need them.
"""

from __future__ import annotations

import argparse
import contextvars
import dataclasses
import importlib
import json
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from fencecheck._version import __version__
from fencecheck.datums import Datum
from fencecheck.errors import DataError, FenceCheckError, MissingDependencyError, OptionError
from fencecheck.fences import FenceSet
from fencecheck.frame import MetricFrame
from fencecheck.hits import Hits
from fencecheck.index import FenceIndex
from fencecheck.io.fences import read_fences
from fencecheck.io.hits import HitsWriter, hits_format
from fencecheck.io.pings import DEFAULT_CHUNK_ROWS, iter_pings, read_pings
from fencecheck.io.tally import PingTally
from fencecheck.options import (
    Boundary,
    EpochUnit,
    Evidence,
    InvalidPolicy,
    MatchMode,
    OnError,
    Source,
)
from fencecheck.pings import PersonRegistry, PingTable
from fencecheck.policy import Policy
from fencecheck.privacy import KEY_ENV, MIN_KEY_BYTES, load_key, pseudonymize, pseudonymize_table
from fencecheck.rejected import Rejected
from fencecheck.times import DEFAULT_TZ, resolve_zone, zone_name
from fencecheck.values import counted

__all__ = ["build_parser", "main"]

# fencecheck.judging.scan.DEFAULT_BATCH_PINGS (a test checks they agree), here so that
# building the parser does not import the judging layer.
_DEFAULT_BATCH_PINGS = 2_000_000

PROG = "fencecheck"
_DESCRIPTION = (
    "Match location pings against electronic fences (closed areas with active time "
    "windows) to explain Beijing Health Kit pop-up 3, or to flag a false trigger."
)


def _choices(enum_type: Any) -> list[str]:
    return [m.value for m in enum_type]


def add_input_options(parser: argparse.ArgumentParser, *, fences: bool, pings: bool) -> None:
    """The input options every data subcommand shares (docs/contract.md)."""
    group = parser.add_argument_group("input")
    if fences:
        parser.set_defaults(fence_files=())
        group.add_argument(
            "--fences",
            action=_FenceFileAction,
            metavar="F.geojson[:DATUM]",
            help="fence file: GeoJSON, or .shp/.gpkg/.fgb/GeoParquet with the geopandas extra; "
            "repeatable (ids must be unique across files); a final :wgs84, :gcj02 or :bd09 "
            "gives that file's datum",
        )
        group.add_argument(
            "--fence-datum",
            default="wgs84",
            choices=_choices(Datum),
            help="datum of fence files without a :DATUM suffix (default: wgs84)",
        )
        group.add_argument(
            "--kind-map",
            action="append",
            default=[],
            metavar="FROM=TO",
            help="read fence kind FROM as the known kind TO (sealed, controlled, precaution, "
            "risk_area, risk_venue); repeatable. Other unknown kinds are refused",
        )
        for field_name, standard in (
            ("id", "id"),
            ("name", "name"),
            ("kind", "kind"),
            ("start", "start"),
            ("end", "end"),
            ("buffer", "buffer_m"),
        ):
            group.add_argument(
                f"--{field_name}-field",
                default=standard,
                metavar="PROPERTY",
                help=f"fence property holding the {standard} (default: {standard})",
            )
        group.add_argument(
            "--kind",
            metavar="KIND",
            help="kind of fences that name none (a fence's own kind wins)",
        )
        group.add_argument(
            "--window",
            metavar="START/END",
            help="window of fences that have none, e.g. 2022-05-01/2022-05-08 or "
            "2022-05-01/ (still active); a fence's own window wins",
        )
        group.add_argument(
            "--invalid",
            default="raise",
            choices=_choices(InvalidPolicy),
            help="invalid (e.g. self-intersecting) polygons: refuse, or repair with "
            "make_valid and report them (default: raise)",
        )
    if pings:
        group.add_argument("--pings", metavar="P.csv|P.parquet", help="ping file")
        group.add_argument(
            "--ping-datum",
            default="wgs84",
            choices=_choices(Datum),
            help="datum of the ping coordinates (default: wgs84)",
        )
        group.add_argument(
            "--encoding",
            default="utf-8",
            help="text encoding of a CSV ping file, e.g. gb18030 (default: utf-8)",
        )
        group.add_argument(
            "--epoch-unit",
            default="s",
            choices=_choices(EpochUnit),
            help="unit of integer times (default: s)",
        )
        group.add_argument(
            "--default-source",
            default="gps",
            choices=_choices(Source),
            help="source of pings whose row names none (default: gps)",
        )
        group.add_argument(
            "--column",
            action="append",
            default=[],
            metavar="NAME=FIELD",
            help="read input column NAME as FIELD (person_id, t, lon, lat, accuracy_m, "
            "source); repeatable, e.g. --column lng=lon",
        )
        group.add_argument(
            "--engine",
            default="auto",
            choices=["auto", "arrow", "python"],
            help="CSV parser: pyarrow's (fast) or the standard library's (default: auto)",
        )
        group.add_argument(
            "--chunk-rows",
            type=int,
            default=DEFAULT_CHUNK_ROWS,
            metavar="N",
            help=f"rows read at a time (default: {DEFAULT_CHUNK_ROWS:,})",
        )
        group.add_argument(
            "--time-format",
            metavar="FMT",
            help="strptime pattern of text times that are neither ISO 8601 nor "
            "2022/5/3 8:20 / 2022年5月3日 08:20, e.g. '%%d/%%m/%%Y %%H:%%M' (naive: --tz)",
        )
    group.add_argument(
        "--tz",
        default=DEFAULT_TZ,
        help=f"zone of naive times, for pings and fence windows (default: {DEFAULT_TZ})",
    )
    group.add_argument(
        "--on-error",
        default="raise",
        choices=_choices(OnError),
        help="bad rows or features: stop with an error, or set them aside in a rejected "
        "table (default: raise)",
    )
    group.add_argument(
        "--rejected",
        metavar="PATH",
        help="where to write rejected rows (CSV; default: next to the output, or "
        "<input name>.rejected.csv in the current directory)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``fencecheck`` command."""
    parser = argparse.ArgumentParser(prog=PROG, description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    validate = sub.add_parser(
        "validate",
        help="load fences and/or pings with every check and report what was read",
        description="Load a fence file and/or a ping file with every check; print what was "
        "read, what was set aside and why (stderr); write rejected rows to CSV.",
    )
    add_input_options(validate, fences=True, pings=True)
    _add_excel_option(validate)
    validate.set_defaults(handler=_run_validate)
    matcher = sub.add_parser(
        "match",
        help="find every (ping, fence) hit with its evidence",
        description="Match pings against fences and write every hit with its window, relation, "
        "depth and p_inside (docs/contract.md), streaming the ping file chunk by chunk.",
    )
    add_input_options(matcher, fences=True, pings=True)
    rules = matcher.add_argument_group("matching")
    rules.add_argument(
        "--mode",
        default="point",
        choices=_choices(MatchMode),
        help="point: the ping is in the fence grown by its margin; disc: its "
        "accuracy disc reaches it (default: point)",
    )
    rules.add_argument(
        "--boundary",
        default="covers",
        choices=_choices(Boundary),
        help="does a ping exactly on the boundary count (default: covers)",
    )
    rules.add_argument(
        "--evidence",
        default="full",
        choices=_choices(Evidence),
        help="full: depth_m and p_inside for every hit; depth: depth_m only; hits: the "
        "pairs alone, what a spatial join gives, fastest (columns not computed are "
        "left empty; default: full)",
    )
    out = matcher.add_argument_group("output")
    out.add_argument(
        "--out",
        metavar="HITS.csv|HITS.parquet",
        help="where to write the hits (default: CSV on stdout)",
    )
    _add_progress_option(out)
    _add_excel_option(out)
    _add_privacy_options(matcher)
    matcher.set_defaults(handler=_run_match)
    explainer = sub.add_parser(
        "explain",
        help="explain each person's pop-up with evidence",
        description="Judge each person's pop-up 3 (exposed, passed through, false trigger and "
        "why, or unexplained) and write a report per person.",
    )
    add_input_options(explainer, fences=True, pings=True)
    _add_case_options(explainer)
    _add_reported_options(explainer)
    _add_explain_options(explainer)
    explainer.set_defaults(handler=_run_explain)
    scanner = sub.add_parser(
        "scan",
        help="judge everyone: people, per-fence, timeline and what-if tables",
        description="Judge every person's pop-up and write the people, fences, timeline and "
        "whatif tables into a folder, with a summary on stderr.",
    )
    add_input_options(scanner, fences=True, pings=True)
    _add_case_options(scanner)
    _add_scan_options(scanner)
    _add_privacy_options(scanner)
    scanner.set_defaults(handler=_run_scan)
    pairs = sub.add_parser(
        "companions",
        help="reproduce the 800 m grid companion rule against confirmed cases, with evidence",
        description="Find every (person, case) pair that shared a grid cell or came within "
        "--close-m, counting every slot of the two files, and write the pair table "
        "(docs/contract.md): grid, close and credible minutes, the smallest distance, whether "
        "the grid rule fires and whether it survives the grid moved by half a cell.",
    )
    add_input_options(pairs, fences=False, pings=True)
    _add_case_options(pairs)
    rule = pairs.add_argument_group("the rule (docs/domain.md, Risk persons)")
    rule.add_argument("--cell-m", type=float, default=800.0, help="grid cell side, metres (800)")
    rule.add_argument("--slot", default="60s", help="slot length (default: 60s)")
    rule.add_argument("--hold", default="15min", help="how long a fix holds (default: 15min)")
    rule.add_argument(
        "--min-together", default="10min", help="time together that fires the rule (10min)"
    )
    rule.add_argument("--close-m", type=float, default=100.0, help="close within, metres (100)")
    pairs.add_argument(
        "--out", metavar="PAIRS.csv|PAIRS.parquet", help="the pair table (default: CSV on stdout)"
    )
    _add_excel_option(pairs)
    _add_privacy_options(pairs)
    pairs.set_defaults(handler=_run_companions)
    demo = sub.add_parser(
        "demo",
        help="explain every person of the bundled samples",
        description="Run explain on the bundled samples (seven invented fences, eight invented "
        "people, three invented confirmed cases).",
    )
    demo.add_argument("--lang", default="en", choices=["zh", "en"], help="report language")
    _add_display_tz(demo)
    demo.add_argument("--format", default="text", choices=["text", "json"], dest="out_format")
    demo.set_defaults(handler=_run_demo)
    return parser


def _add_judging_options(group: Any) -> None:
    """``--at``, ``--lookback`` and ``--mode``, as explain and scan take them."""
    group.add_argument("--at", help="judge at this time (default: each person's last ping)")
    group.add_argument("--lookback", default="14d", help="how far back to look (default: 14d)")
    group.add_argument(
        "--mode",
        default="disc",
        choices=_choices(MatchMode),
        help="how candidate hits are found (default: disc)",
    )


def _add_case_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cases")
    group.add_argument(
        "--cases",
        metavar="C.csv|C.parquet",
        help="confirmed cases' pings, in the pings' format (person_id is the case id); the "
        "ping options apply to it",
    )
    group.add_argument(
        "--case-datum",
        default="wgs84",
        choices=_choices(Datum),
        help="datum of the case coordinates (default: wgs84)",
    )
    group.add_argument(
        "--grid-origin",
        metavar="LON,LAT",
        help="origin of the companion grid (default: the centre of the cases' pings)",
    )


def _add_display_tz(group: Any) -> None:
    group.add_argument(
        "--display-tz",
        default=DEFAULT_TZ,
        metavar="ZONE",
        help=f"zone the reports show times in, whatever --tz read the input in "
        f"(default: {DEFAULT_TZ})",
    )


def _add_progress_option(group: Any) -> None:
    group.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default="auto",
        help="progress on stderr (auto: when stderr is a terminal)",
    )


def _shows_progress(args: argparse.Namespace) -> bool:
    return bool(args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty()))


def _add_excel_option(group: Any) -> None:
    group.add_argument(
        "--excel",
        action="store_true",
        help="write CSV (and rejected rows) as UTF-8 with a byte-order mark, so that Excel "
        "shows Chinese text; the default has none, for scripts, pandas and cut",
    )


_EXCEL: contextvars.ContextVar[bool] = contextvars.ContextVar("excel", default=False)
"""The command's ``--excel``, for the rejected-row files every subcommand writes."""

_POLICY_FIELDS = tuple(f.name for f in dataclasses.fields(Policy))


def _add_policy_options(group: Any) -> None:
    """``--min-dwell``, ``--credible`` and ``--policy FILE``: the judging thresholds."""
    group.add_argument(
        "--min-dwell",
        metavar="DUR",
        help="the shortest stay that counts as an exposure, as --lookback takes it "
        "(default: 10min)",
    )
    group.add_argument(
        "--credible",
        metavar="P",
        help="the p_inside a fix needs to be credible, in (0, 1] (default: 0.9)",
    )
    group.add_argument(
        "--policy",
        metavar="FILE",
        help="thresholds from a .toml or .json file of fencecheck.Policy field names "
        "(e.g. min_dwell_s = 3600); --min-dwell and --credible win over it",
    )


def _policy(args: argparse.Namespace) -> Policy | None:
    """The thresholds of ``--policy``, ``--min-dwell`` and ``--credible`` (None: the defaults)."""
    from fencecheck.judging.verdicts import parse_duration

    values: dict[str, float] = {}
    path = getattr(args, "policy", None)
    if path is not None:
        values.update(_read_policy(path))
    if getattr(args, "min_dwell", None) is not None:
        try:
            values["min_dwell_s"] = parse_duration(args.min_dwell)
        except OptionError as exc:
            raise OptionError(f"--min-dwell: {exc}") from None
    if getattr(args, "credible", None) is not None:
        try:
            p = float(args.credible)
        except ValueError:
            p = float("nan")
        if not 0 < p <= 1:
            raise OptionError(f"--credible: {args.credible!r} is not a probability in (0, 1]")
        values["credible_p"] = p
    if values.get("credible_p", 1.0) == 0:
        raise OptionError(f"--policy {path}: credible_p: 0 is not a probability in (0, 1]")
    return Policy(**values) if values else None


def _read_policy(path: str) -> dict[str, float]:
    """The fields of a ``--policy`` file (TOML or JSON), each checked as ``Policy`` checks it."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".toml", ".json"):
        raise OptionError(f"--policy {path}: name it .toml or .json to say how to read it")
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read it ({exc.strerror})", source=path) from None
    try:
        if suffix == ".json":
            doc = json.loads(raw)
        else:
            try:
                toml: Any = importlib.import_module("tomllib")
            except ImportError:  # Python 3.10
                raise OptionError(
                    f"--policy {path}: TOML needs Python 3.11 or later; write it as JSON"
                ) from None
            doc = toml.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # TOMLDecodeError, JSONDecodeError
        raise OptionError(f"--policy {path}: not valid {suffix[1:].upper()}: {exc}") from None
    if not isinstance(doc, dict):
        raise OptionError(f"--policy {path}: expected a table of Policy fields")
    from fencecheck.judging.verdicts import parse_duration

    values: dict[str, float] = {}
    for key, value in doc.items():
        if key not in _POLICY_FIELDS:
            raise OptionError(
                f"--policy {path}: unknown key {key!r}; known fields: {', '.join(_POLICY_FIELDS)}"
            )
        if isinstance(value, str) and key.endswith("_s"):  # a duration, "60min"
            try:
                value = parse_duration(value)
            except OptionError as exc:
                raise OptionError(f"--policy {path}: {key}: {exc}") from None
        try:
            values[key] = getattr(Policy(**{key: value}), key)
        except OptionError as exc:  # its message starts with the key
            raise OptionError(f"--policy {path}: {exc}") from None
    return values


def _policy_note(policy: Policy | None) -> str:
    """The thresholds that differ from the defaults, for a summary line ("" for none)."""
    if policy is None:
        return ""
    default = Policy()
    changed = [
        f"{name} {getattr(policy, name):g}"
        for name in _POLICY_FIELDS
        if getattr(policy, name) != getattr(default, name)
    ]
    return f"; policy {', '.join(changed)}" if changed else ""


def _add_reported_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the worker's checks")
    group.add_argument(
        "--region",
        metavar="R.geojson",
        help="a Polygon/MultiPolygon the person should not have left in the lookback "
        "(e.g. the Beijing municipality outline)",
    )
    group.add_argument(
        "--region-datum",
        default="wgs84",
        choices=_choices(Datum),
        help="datum of the region (DataV and Amap outlines are gcj02)",
    )
    group.add_argument(
        "--itinerary",
        metavar="I.csv",
        help="places residents reported: person_id, place, lon, lat, start, end[, radius_m]",
    )
    group.add_argument(
        "--itinerary-datum",
        default="gcj02",
        choices=_choices(Datum),
        help="datum of the itinerary's pins (default: gcj02, Amap pins)",
    )


def load_reported(args: argparse.Namespace) -> None:
    """Read ``--region`` and ``--itinerary`` into ``args`` (and report what was set aside)."""
    from fencecheck.io.itinerary import read_itinerary
    from fencecheck.io.region import read_region

    if getattr(args, "region", None):
        args.region_loaded = read_region(args.region, datum=args.region_datum)
    if getattr(args, "itinerary", None):
        itinerary = read_itinerary(
            args.itinerary, datum=args.itinerary_datum, tz=args.tz, on_error=args.on_error
        )
        args.itinerary_loaded = itinerary
        if len(itinerary.rejected):
            _say(
                f"{args.itinerary}: {counted(itinerary.rows_read, 'row', 'rows')} read, "
                f"{counted(len(itinerary), 'place', 'places')} used, "
                f"{len(itinerary.rejected):,} rejected"
            )
            path = rejected_path(args, args.itinerary)
            if args.rejected:  # beside the pings' rejected rows, not over them
                path = path.with_name(path.stem + ".itinerary" + path.suffix)
            _report_rejected(itinerary.rejected, path, "rows")


def _add_explain_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("explaining")
    group.add_argument(
        "--person", action="append", default=None, help="a person id (repeat; default: all)"
    )
    _add_judging_options(group)
    group.add_argument("--lang", default="zh", choices=["zh", "en"], help="report language")
    _add_display_tz(group)
    group.add_argument(
        "--format",
        default="text",
        choices=["text", "json", "html"],
        dest="out_format",
        help="text paragraphs, JSON Lines (docs/contract.md), or one printable HTML page per "
        "person (needs --out)",
    )
    group.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="with --format html: write DIR/<person_id>.html, one self-contained page per person",
    )
    group.add_argument(
        "--maps",
        metavar="DIR",
        default=None,
        help="also draw each person's map to DIR/<person_id>.png (needs fencecheck[plot])",
    )
    _add_policy_options(group)
    _add_progress_option(group)


def _add_scan_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scanning")
    _add_judging_options(group)
    _add_policy_options(group)
    group.add_argument(
        "--batch-rows",
        type=int,
        default=_DEFAULT_BATCH_PINGS,
        metavar="N",
        help=f"pings judged at a time, whole people (default: {_DEFAULT_BATCH_PINGS:,}); "
        "a larger file is first regrouped by person into temporary files",
    )
    group.add_argument(
        "--sorted-by-person",
        action="store_true",
        help="the file is already grouped by person: read it as it comes, no temporary files",
    )
    group.add_argument(
        "--dask",
        metavar="ADDRESS",
        default=None,
        help="run on Dask: local:N (N worker processes started and stopped here) or a "
        "scheduler address such as tcp://host:8786 (needs fencecheck[dask])",
    )
    out = parser.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help="folder for the tables (created if needed)")
    out.add_argument("--out-format", default="csv", choices=["csv", "parquet"], help="table format")
    _add_progress_option(out)
    _add_excel_option(out)


def _add_privacy_options(parser: argparse.ArgumentParser) -> None:
    """``--pseudonymize`` and ``--key-file`` (docs/privacy.md); the key never comes as a flag."""
    group = parser.add_argument_group("privacy (docs/privacy.md)")
    group.add_argument(
        "--pseudonymize",
        action="store_true",
        help=f"write each person id as its pseudonym, the HMAC-SHA-256 of the id under a secret "
        f"key (64 hex digits; the same key gives the same pseudonym); the key comes from "
        f"{KEY_ENV} or --key-file, at least {MIN_KEY_BYTES} bytes; case ids are kept",
    )
    group.add_argument(
        "--key-file",
        metavar="PATH",
        help=f"read the key from this file instead of {KEY_ENV} (keep it readable by you only)",
    )
    # Not listed, but refused with a reason: else argparse would read "--key" as --key-file.
    group.add_argument("--key", nargs="?", action=_NoKeyFlag, help=argparse.SUPPRESS)


class _NoKeyFlag(argparse.Action):
    """``--key`` is refused: a key on the command line stays in shell histories and ``ps``."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            f"there is no --key option: a key on the command line stays in the shell history "
            f"and the process list; set {KEY_ENV} or give --key-file PATH (docs/privacy.md)"
        )


def _privacy_key(args: argparse.Namespace) -> bytes | None:
    """The pseudonym key when ``--pseudonymize`` is given (a usage error when there is none)."""
    if not args.pseudonymize:
        if args.key_file is not None:
            raise OptionError("--key-file: a key is only used with --pseudonymize")
        return None
    try:
        return load_key(args.key_file)
    except OptionError as exc:
        raise OptionError(f"--pseudonymize: {exc}") from None


def _pseudonymous_hits(hits: Hits, key: bytes) -> Hits:
    """The hits with each person id replaced by its pseudonym (each person hashed once)."""
    present, codes = np.unique(hits.person, return_inverse=True)
    persons = PersonRegistry()
    persons.encode_distinct(pseudonymize(hits.persons.ids()[present], key))
    return replace(hits, person=codes.reshape(-1).astype(np.int32), persons=persons)


def _report_person_rejected(
    rejected: Rejected, path: Path, key: bytes | None, what: str = "rows"
) -> None:
    """:func:`_report_rejected` for rows that carry person ids.

    Under ``--pseudonymize`` stderr shows pseudonyms, and says that the file itself
    holds the raw rows (docs/privacy.md).
    """
    if key is None:
        _report_rejected(rejected, path, what)
        return
    rejected.to_csv(path, excel=_EXCEL.get())
    counts = ", ".join(f"{field} {n}" for field, n in rejected.reasons_by_field().items())
    _say(f"  {counted(len(rejected), 'row', what)} set aside ({counts}); reasons written to {path}")
    _say(f"  {path} holds raw input rows, not pseudonymized: keep it out of what you share")
    shown = pseudonymize(rejected.id, key)
    for (row, _, field, reason, _), ident in zip(rejected.records()[:3], shown, strict=False):
        _say(f"    row {row} {ident}: {field}: {reason}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    excel = _EXCEL.set(bool(getattr(args, "excel", False)))  # for the rejected-row files
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            code = int(args.handler(args, parser))
        except OptionError as exc:
            _say(f"error: {exc}")
            code = 2
        except (DataError, MissingDependencyError) as exc:
            _say(f"error: {exc}")
            code = 1
        except FenceCheckError as exc:
            _say(f"error: {exc}")
            code = 1
        except BrokenPipeError:
            code = 0
        except KeyboardInterrupt:
            _say("interrupted")
            code = 130
        except Exception as exc:
            if os.environ.get("FENCECHECK_DEBUG"):
                raise
            _say(
                f"internal error: {type(exc).__name__}: {exc} "
                "(a bug in fencecheck; set FENCECHECK_DEBUG=1 for the traceback and report it)"
            )
            code = 1
        finally:
            _EXCEL.reset(excel)
        for item in caught:
            _say(f"warning: {item.message}")
    return code


def _say(message: str, stream: TextIO | None = None) -> None:
    print(f"{PROG}: {message}", file=stream or sys.stderr)


def parse_columns(pairs: Sequence[str]) -> dict[str, str]:
    """``["lng=lon"]`` -> ``{"lng": "lon"}``; raises OptionError for a bad pair.

    The reader (:func:`fencecheck.read_pings`) refuses a FIELD that is not a ping
    field and an input column NAME the file does not have.
    """
    out = {}
    for pair in pairs:
        name, sep, target = pair.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise OptionError(
                f"--column: {pair!r} is not NAME=FIELD (--column longitude=lon reads the "
                "input column 'longitude' as lon)"
            )
        out[name.strip()] = target.strip().lower()
    return out


def load_fences(args: argparse.Namespace) -> FenceSet:
    """Read every ``--fences`` file with the command's options and join them.

    Raises
    ------
    FenceDataError
        When an id is in two files (naming the id and both files).
    OptionError
        For a bad ``--kind-map``, ``--kind`` or ``--window``.
    """
    files = list(getattr(args, "fence_files", ()) or [])
    if not files:
        files = [split_fence_datum(args.fences)]
    options: dict[str, Any] = {
        "tz": args.tz,
        "invalid": args.invalid,
        "on_error": args.on_error,
        "kind_map": parse_kind_map(getattr(args, "kind_map", [])),
        "id_field": getattr(args, "id_field", "id"),
        "name_field": getattr(args, "name_field", "name"),
        "kind_field": getattr(args, "kind_field", "kind"),
        "start_field": getattr(args, "start_field", "start"),
        "end_field": getattr(args, "end_field", "end"),
        "buffer_field": getattr(args, "buffer_field", "buffer_m"),
        "kind": getattr(args, "kind", None),
        "window": parse_window(getattr(args, "window", None)),
    }
    parts = [read_fences(path, datum=datum or args.fence_datum, **options) for path, datum in files]
    return parts[0] if len(parts) == 1 else FenceSet.concat(parts)


def split_fence_datum(text: str) -> tuple[str, str | None]:
    """``"B.geojson:gcj02"`` -> ``("B.geojson", "gcj02")``; a path without a final datum as is.

    Only a final ``:wgs84``, ``:gcj02`` or ``:bd09`` is a datum: any other ``:`` is
    part of the path.

    Examples
    --------
    >>> split_fence_datum("B.geojson:GCJ02"), split_fence_datum("dir:x/A.geojson")
    (('B.geojson', 'gcj02'), ('dir:x/A.geojson', None))
    """
    path, sep, tail = text.rpartition(":")
    if sep and path and tail.strip().lower() in _choices(Datum):
        return path, tail.strip().lower()
    return text, None


class _FenceFileAction(argparse.Action):
    """``--fences``, repeatable: each file goes to ``fence_files`` as ``(path, datum)``.

    ``fences`` keeps the first path (what the summaries and rejected files are named by).
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        path, datum = split_fence_datum(str(values))
        files = [*(getattr(namespace, "fence_files", None) or ()), (path, datum)]
        namespace.fence_files = files
        if len(files) == 1:
            namespace.fences = path


def parse_kind_map(pairs: Sequence[str]) -> dict[str, str]:
    """``["封控 = sealed"]`` -> ``{"封控": "sealed"}``; raises OptionError for a bad pair."""
    out = {}
    for pair in pairs:
        name, sep, target = pair.partition("=")
        if not sep or not name.strip() or not target.strip():
            raise OptionError(f"--kind-map: {pair!r} is not FROM=TO")
        out[name.strip()] = target.strip()
    return out


def parse_window(text: str | None) -> tuple[str, str | None] | None:
    """``"2022-05-01/2022-05-08"`` -> a (start, end) pair; ``"2022-05-01/"`` is still active.

    Examples
    --------
    >>> parse_window("2022-05-01/"), parse_window(None)
    (('2022-05-01', None), None)
    """
    if text is None:
        return None
    start, sep, end = text.partition("/")
    if not sep or not start.strip():
        raise OptionError(f"--window: {text!r} is not START/END (END may be empty: still active)")
    return start.strip(), end.strip() or None


def stream_pings(
    args: argparse.Namespace, path: str | None = None, datum: str | None = None
) -> Any:
    """Iterate over ``--pings`` (or another ping file) chunk by chunk with the command's options."""
    return iter_pings(
        args.pings if path is None else path,
        datum=args.ping_datum if datum is None else datum,
        tz=args.tz,
        epoch_unit=args.epoch_unit,
        on_error=args.on_error,
        encoding=args.encoding,
        columns=parse_columns(args.column),
        default_source=args.default_source,
        chunk_rows=args.chunk_rows,
        engine=args.engine,
        time_format=getattr(args, "time_format", None),
    )


def rejected_path(args: argparse.Namespace, input_path: str, out: str | None = None) -> Path:
    """Where rejected rows of ``input_path`` go: ``--rejected``, or a default."""
    if args.rejected:
        return Path(args.rejected)
    stem = Path(input_path).name
    for suffix in (".gz", ".csv", ".parquet", ".pq", ".txt", ".geojson", ".json"):
        stem = stem.removesuffix(suffix)
    folder = Path(out).parent if out else Path.cwd()
    return folder / f"{stem}.rejected.csv"


def _run_validate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not args.fences and not args.pings:
        parser.error("validate needs --fences and/or --pings")
    zone = resolve_zone(args.tz)
    both_rejected = bool(args.rejected and args.fences and args.pings)
    if args.fences:
        fences = load_fences(args)
        by_kind: dict[str, int] = {}
        for kind in fences.kinds.tolist():
            by_kind[kind] = by_kind.get(kind, 0) + 1
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items()))
        read = len(fences) + len(fences.rejected)
        _say(
            f"{args.fences}: {counted(read, 'feature', 'features')} read, "
            f"{counted(len(fences), 'fence', 'fences')} ({kinds}), "
            f"{counted(len(fences.window_start), 'window', 'windows')}, "
            f"{len(fences.rejected)} rejected, "
            f"{len(fences.repaired)} repaired; datum {args.fence_datum} -> wgs84, "
            f"naive times in {zone_name(zone)}"
        )
        if not len(fences):
            _say(
                f"warning: {args.fences}: no fence was read; match, explain and scan would "
                "have nothing to match the pings against"
            )
        for fid, why in fences.repaired.items():
            _say(f"  repaired fence {fid}: {why}")
        if len(fences.rejected):
            path = rejected_path(args, args.fences)
            if both_rejected:
                path = path.with_name(path.stem + ".fences" + path.suffix)
            _report_rejected(fences.rejected, path, "features")
    if args.pings:
        tally = PingTally()
        for chunk in stream_pings(args):
            tally.add(chunk)
        _say(f"{args.pings}: {tally.summary(args.ping_datum, zone_name(zone))}")
        rejected = Rejected.concat(tally.rejected)
        if len(rejected):
            _report_rejected(rejected, rejected_path(args, args.pings), "rows")
    return 0


def _run_match(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not args.fences or not args.pings:
        parser.error("match needs --fences and --pings")
    key = _privacy_key(args)
    zone = resolve_zone(args.tz)
    kind = hits_format(args.out)
    fences = load_fences(args)
    index = FenceIndex.build(fences)
    show = _shows_progress(args)
    rows_read = 0
    set_aside: list[Rejected] = []
    people = np.zeros(0, dtype=bool)  # by person code: has a hit
    target: Any = sys.stdout if args.out in (None, "-") else args.out
    with HitsWriter(target, kind, excel=args.excel) as writer:
        for chunk in stream_pings(args):
            rows_read += chunk.rows_read
            if len(chunk.rejected):
                set_aside.append(chunk.rejected)
            hits = index.match(
                chunk, mode=args.mode, boundary=args.boundary, evidence=args.evidence
            )
            writer.write(hits if key is None else _pseudonymous_hits(hits, key))
            people = _mark(people, hits.person)
            if show:
                print(
                    f"\r{PROG}: {rows_read:,} pings read, {writer.rows:,} hits",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
    if show:
        print(file=sys.stderr)
    rejected = Rejected.concat(set_aside)
    _say(
        f"{counted(rows_read, 'ping', 'pings')} read, {len(rejected):,} rejected, "
        f"{counted(writer.rows, 'hit', 'hits')}, "
        f"{counted(int(people.sum()), 'person', 'people')} with a hit; "
        f"{counted(len(fences), 'fence', 'fences')} ({args.mode} mode, "
        f"{args.boundary}{_evidence_left_out(args.evidence)}); naive times in {zone_name(zone)}; "
        f"fence datum {args.fence_datum}, ping datum {args.ping_datum}"
        + ("; person ids pseudonymized" if key else "")
    )
    if len(fences.rejected):
        path = rejected_path(args, args.fences, args.out)
        path = path.with_name(path.stem + ".fences" + path.suffix)
        _report_rejected(fences.rejected, path, "features")
    if len(rejected):
        out = None if args.out in (None, "-") else args.out
        _report_person_rejected(rejected, rejected_path(args, args.pings, out), key)
    return 0


def _evidence_left_out(evidence: str) -> str:
    """What the summary says of ``--evidence``: nothing for full, else the columns left empty."""
    left_out = {"full": "", "depth": "p_inside", "hits": "depth_m and p_inside"}[evidence]
    return f", {left_out} not computed" if left_out else ""


def _mark(marked: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``marked`` (a flag per code) with ``codes`` set, grown when a code is past its end."""
    if codes.shape[0] == 0:
        return marked
    top = int(codes.max()) + 1
    if top > marked.shape[0]:
        marked = np.concatenate([marked, np.zeros(top - marked.shape[0], dtype=bool)])
    marked[codes] = True
    return marked


def _run_explain(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not args.pings or not (args.fences or args.cases):
        parser.error("explain needs --pings, and --fences or --cases (or both)")
    cases = load_cases(args)
    fences = load_fences(args) if args.fences else FenceSet.from_records([])
    load_reported(args)
    pings = PingTable.concat(list(stream_pings(args)))
    status = _write_explanations(args, fence_index(fences, cases), pings, cases)
    # Nothing is lost: what was set aside is counted and written, as validate, match and scan do.
    if len(fences.rejected):
        path = rejected_path(args, args.fences)
        _report_rejected(
            fences.rejected, path.with_name(path.stem + ".fences" + path.suffix), "features"
        )
    for table, path in ((pings, args.pings), (cases, args.cases)):
        if table is not None and len(table.rejected):
            _say(
                f"{path}: {counted(table.rows_read, 'row', 'rows')} read, "
                f"{counted(len(table), 'ping', 'pings')} used, {len(table.rejected):,} rejected"
            )
            _report_rejected(table.rejected, rejected_path(args, path), "rows")
    return status


def load_cases(args: argparse.Namespace) -> PingTable | None:
    """Read ``--cases`` (with the ping options and ``--case-datum``), if given."""
    if not getattr(args, "cases", None):
        return None
    return PingTable.concat(list(stream_pings(args, args.cases, args.case_datum)))


def fence_index(fences: FenceSet, cases: PingTable | None) -> FenceIndex:
    """The fences' index; with no fence, an empty one in a frame centred on the cases."""
    if len(fences) or cases is None or len(cases) == 0:
        return FenceIndex.build(fences)
    lon = float(cases.lon.min() + cases.lon.max()) / 2
    lat = float(cases.lat.min() + cases.lat.max()) / 2
    return FenceIndex(fences, MetricFrame(round(lon, 6), round(lat, 6)))


def _write_explanations(
    args: argparse.Namespace, index: FenceIndex, pings: PingTable, cases: PingTable | None = None
) -> int:
    maps = getattr(args, "maps", None)
    out_format = getattr(args, "out_format", "text")
    pages = getattr(args, "out", None)
    if out_format == "html" and pages is None:
        raise OptionError("--format html needs --out DIR, the folder for the pages")
    if pages is not None and out_format != "html":
        raise OptionError(
            f"--out DIR goes with --format html (--format {out_format} writes to stdout)"
        )
    if pages is not None:
        try:
            Path(pages).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OptionError(f"--out {pages}: cannot create the folder ({exc.strerror})") from None
    if maps is not None:
        _use_file_backend()
    from fencecheck.judging.explain import explain

    show = hasattr(args, "progress") and _shows_progress(args)
    explanations = explain(
        pings,
        index,
        person=getattr(args, "person", None),
        at=getattr(args, "at", None),
        lookback=getattr(args, "lookback", "14d"),
        mode=getattr(args, "mode", "disc"),
        track=maps is not None or pages is not None,
        display_tz=resolve_zone_option(args.display_tz, "--display-tz"),
        cases=cases,
        grid_origin=_grid_origin(args),
        region=getattr(args, "region_loaded", None),
        itinerary=getattr(args, "itinerary_loaded", None),
        policy=_policy(args),
        progress=_progress_line if show else None,
    )
    if show:
        print(file=sys.stderr)
    used: set[str] = set()
    for item in explanations:
        if pages is not None:  # one page per person, named as the maps are
            name = base = map_file_name(item.person_id)
            k = 1
            while name in used:  # two ids that read the same once made safe
                k += 1
                name = f"{base}-{k}"
            used.add(name)
            (Path(pages) / f"{name}.html").write_text(item.to_html(args.lang), encoding="utf-8")
        elif out_format == "json":
            print(item.to_json(args.lang))
        else:
            print(item.to_text(args.lang), end="\n\n")
    verdicts: dict[str, int] = {}
    for item in explanations:
        verdicts[item.verdict] = verdicts.get(item.verdict, 0) + 1
    summary = ", ".join(f"{name} {n}" for name, n in sorted(verdicts.items()))
    _say(
        counted(len(explanations), "person", "people")
        + " explained"
        + (f": {summary}" if summary else "")
    )
    if pages is not None:
        _say(f"{counted(len(explanations), 'page', 'pages')} written in {pages}")
    if maps is not None:
        written = _draw_maps(explanations, Path(maps))
        _say(f"{counted(written, 'map', 'maps')} drawn in {maps}")
    return 0


def resolve_zone_option(value: str, flag: str) -> str:
    """A zone name from the command line, checked (an unknown zone is a usage error)."""
    try:
        return zone_name(resolve_zone(value))
    except OptionError as exc:
        raise OptionError(f"{flag}: {exc}") from None


def _use_file_backend() -> None:
    """Draw to files (Agg): the command line never opens a window."""
    try:
        import matplotlib
    except ImportError as exc:
        raise MissingDependencyError("matplotlib", "plot", "--maps") from exc
    matplotlib.use("Agg")


def _draw_maps(explanations: Sequence[Any], folder: Path) -> int:
    """One PNG per person, named by the person id made safe for a file name."""
    import matplotlib.pyplot as plt

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OptionError(f"--maps {folder}: cannot create the folder ({exc.strerror})") from None
    used: set[str] = set()
    for item in explanations:
        name = base = map_file_name(item.person_id)
        k = 1
        while name in used:  # two ids that read the same once made safe
            k += 1
            name = f"{base}-{k}"
        used.add(name)
        ax = item.plot()
        ax.figure.savefig(folder / f"{name}.png", dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
    return len(explanations)


def map_file_name(person_id: str) -> str:
    """A person id as a file name: characters other than letters, digits, ``.-_`` become ``_``.

    Examples
    --------
    >>> map_file_name("001/04-22"), map_file_name("张三 01")
    ('001_04-22', '张三_01')
    """
    safe = "".join(c if c.isalnum() or c in ".-_" else "_" for c in person_id)
    return safe.lstrip(".") or "_"


def _run_scan(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not args.pings or not args.out or not (args.fences or args.cases):
        parser.error("scan needs --pings, --out, and --fences or --cases (or both)")
    if args.batch_rows < 1:
        raise OptionError(f"--batch-rows: {args.batch_rows} is not a positive whole number")
    key = _privacy_key(args)
    zone = resolve_zone(args.tz)
    cases = load_cases(args)
    fences = load_fences(args) if args.fences else FenceSet.from_records([])
    progress = _progress_line if _shows_progress(args) else None
    policy = _policy(args)
    if args.dask:
        result = _scan_on_dask(args, fence_index(fences, cases), cases, progress)
    else:
        from fencecheck.judging.scan_file import scan_file

        result = scan_file(
            stream_pings(args),
            fence_index(fences, cases),
            cases=cases,
            grid_origin=_grid_origin(args),
            at=args.at,
            lookback=args.lookback,
            policy=policy,
            mode=args.mode,
            batch_rows=args.batch_rows,
            sorted_by_person=args.sorted_by_person,
            progress=progress,
        )
    if progress is not None:
        print(file=sys.stderr)
    if key is not None:  # the people table is the one that names persons
        result = replace(result, people=pseudonymize_table(result.people, key))
    written = result.write(args.out, args.out_format, excel=args.excel)
    reading = result.reading
    assert reading is not None
    when = args.at or "each person's last ping"
    _say(
        f"{counted(reading.rows_read, 'row', 'rows')} read, "
        f"{counted(reading.pings_used, 'ping', 'pings')} of "
        f"{counted(reading.people, 'person', 'people')} used, {len(reading.rejected):,} rejected; "
        f"{counted(len(fences), 'fence', 'fences')} ({args.mode} mode, lookback {args.lookback}, "
        f"judged at {when}); "
        f"naive times in {zone_name(zone)}; fence datum {args.fence_datum}, "
        f"ping datum {args.ping_datum}"
        + ("; regrouped by person in temporary files" if reading.regrouped else "")
        + (f"; on Dask ({args.dask})" if args.dask else "")
        + _policy_note(policy)
        + ("; person ids pseudonymized" if key else "")
    )
    for line in result.summary().splitlines():
        _say(line)
    _say(f"wrote {', '.join(written)}")
    if len(fences.rejected):
        path = rejected_path(args, args.fences, str(Path(args.out) / "x"))
        path = path.with_name(path.stem + ".fences" + path.suffix)
        _report_rejected(fences.rejected, path, "features")
    if len(reading.rejected):
        _report_person_rejected(
            reading.rejected, rejected_path(args, args.pings, str(Path(args.out) / "x")), key
        )
    return 0


def _scan_on_dask(
    args: argparse.Namespace,
    index: FenceIndex,
    cases: PingTable | None,
    progress: Any,
) -> Any:
    """``scan --dask ADDRESS``: the same scan on a Dask cluster (``fencecheck.dask``)."""
    from fencecheck.dask import cluster
    from fencecheck.dask import scan as scan_on_dask

    with cluster(args.dask):
        if progress is not None:
            progress(f"scanning on Dask ({args.dask})")
        return scan_on_dask(
            args.pings,
            index,
            cases=cases,
            grid_origin=_grid_origin(args),
            at=args.at,
            lookback=args.lookback,
            policy=_policy(args),
            mode=args.mode,
            batch_pings=args.batch_rows,
            progress=progress,
            datum=args.ping_datum,
            tz=args.tz,
            epoch_unit=args.epoch_unit,
            on_error=args.on_error,
            encoding=args.encoding,
            columns=parse_columns(args.column),
            default_source=args.default_source,
        )


def _progress_line(line: str) -> None:
    """Overwrite the progress line on stderr."""
    print(f"\r{PROG}: {line:<60}", end="", file=sys.stderr, flush=True)


def _grid_origin(args: argparse.Namespace) -> tuple[float, float] | None:
    from fencecheck.judging.companions import parse_grid_origin

    value = getattr(args, "grid_origin", None)
    return None if value is None else parse_grid_origin(value)


def _run_companions(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not args.pings or not args.cases:
        parser.error("companions needs --pings and --cases")
    from fencecheck.judging.companions import companions, parse_grid_origin
    from fencecheck.judging.verdicts import parse_duration

    key = _privacy_key(args)
    policy = Policy(
        slot_s=parse_duration(args.slot),
        hold_s=parse_duration(args.hold),
        min_together_s=parse_duration(args.min_together),
        cell_m=args.cell_m,
        close_m=args.close_m,
    )
    origin = None if args.grid_origin is None else parse_grid_origin(args.grid_origin)
    kind = hits_format(args.out)
    pings = PingTable.concat(list(stream_pings(args)))
    cases = PingTable.concat(list(stream_pings(args, args.cases, args.case_datum)))
    found = companions(pings, cases, grid_origin=origin, policy=policy)
    table = found.table if key is None else pseudonymize_table(found.table, key)
    if args.out in (None, "-"):
        table.to_csv(sys.stdout, excel=args.excel)
    else:
        table.write(args.out, kind, excel=args.excel)
    fired = int(np.sum(table["grid_rule"])) if len(table) else 0
    close = int(np.sum((table["credible_minutes"] > 0) & table["grid_rule"])) if len(table) else 0
    lon, lat = found.grid_origin
    _say(
        f"{counted(len(table), 'pair', 'pairs')} of "
        f"{counted(len(set(table['person_id'].tolist())), 'person', 'people')} with "
        f"{counted(len(set(table['case_id'].tolist())), 'case', 'cases')}; the grid rule fires "
        f"for {fired}, of which {close} were credibly close; grid origin {lon:.6f},{lat:.6f}, "
        f"cells of {policy.cell_m:g} m, slots of {policy.slot_s:g} s"
        + ("; person ids pseudonymized (case ids kept)" if key else "")
    )
    out = None if args.out in (None, "-") else args.out
    if len(pings.rejected):
        _report_person_rejected(pings.rejected, rejected_path(args, args.pings, out), key)
    if len(cases.rejected):  # case ids are kept as they are: no pseudonyms here
        _report_rejected(cases.rejected, rejected_path(args, args.cases, out), "rows")
    return 0


def _run_demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    del parser
    from fencecheck import samples

    _say(f"explaining every person in the bundled samples, {samples.folder()} (invented data)")
    index = FenceIndex.build(read_fences(samples.path("fences.geojson")))
    cases = read_pings(samples.path("cases.csv"))
    return _write_explanations(args, index, read_pings(samples.path("pings.csv")), cases)


def _report_rejected(rejected: Rejected, path: Path, what: str) -> None:
    rejected.to_csv(path, excel=_EXCEL.get())
    counts = ", ".join(f"{field} {n}" for field, n in rejected.reasons_by_field().items())
    one = {"rows": "row", "features": "feature"}[what]
    _say(f"  {counted(len(rejected), one, what)} set aside ({counts}); reasons written to {path}")
    for row, ident, field, reason, _ in rejected.records()[:3]:
        label = f"row {row}" if what == "rows" else f"feature #{row}"
        _say(f"    {label} {ident}: {field}: {reason}")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
