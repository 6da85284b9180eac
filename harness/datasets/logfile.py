"""The web server log of the DynamoDB workshop (exercises 1-3): synthetic, or read from its CSV files.

Items carry a write-sharded GSI: GSI_1_PK spreads the log over shards partitions (shard#1 ..
shard#N) so writes of one response code do not all land on one hot partition, and GSI_1_SK
("<responsecode>#<date>#<hour>") lets one Query per shard select a code, a day or an hour.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from os import PathLike
from typing import NamedTuple

from harness.scenario import LogfileDataset

ATTRIBUTE_TYPES = LogfileDataset.ATTRIBUTE_TYPES

TIMEZONE = "GMT-0700"

# Response codes counted in the workshop's own log files (6,500 rows), used as weights.
RESPONSE_CODE_COUNTS = {200: 5561, 302: 681, 404: 121, 304: 97, 206: 18, 500: 14, 301: 7, 403: 1}

# Inclusive ranges of bytes sent per response code: redirects and "not modified" carry no body.
BYTES_SENT_RANGES = {
    200: (300, 60_000),
    206: (1_000, 500_000),
    301: (180, 400),
    302: (0, 5),
    304: (0, 5),
    403: (200, 400),
    404: (200, 600),
    500: (0, 600),
}

METHOD_COUNTS = {"GET": 96, "POST": 3, "HEAD": 1}

# Addresses from the documentation ranges of RFC 5737 and private networks: plausible, nobody's real host.
HOSTS = (
    "192.0.2.14",
    "192.0.2.87",
    "198.51.100.3",
    "198.51.100.42",
    "198.51.100.199",
    "203.0.113.9",
    "203.0.113.120",
    "203.0.113.250",
    "10.0.4.17",
    "10.0.9.230",
    "172.16.2.5",
    "192.168.1.44",
)

# "{item}" is replaced by a number, so the log has many distinct urls from a few shapes.
URL_TEMPLATES = (
    "/",
    "/index.html",
    "/favicon.ico",
    "/robots.txt",
    "/feed.xml",
    "/css/site.css",
    "/images/logo.png",
    "/gallery/main.php?g2_itemId={item}",
    "/gallery/main.php?g2_view=core.DownloadItem&g2_itemId={item}&g2_serialNumber=2",
    "/blog/post/{item}",
    "/search?q=partition+key,sort+key&page={item}",
)
URL_ITEM_RANGE = (1, 40_000)

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/59.0.3071.115"
    " Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_5) AppleWebKit/603.2.4 (KHTML, like Gecko) Version/10.1.1"
    " Safari/603.2.4",
    "Mozilla/5.0 (X11; Linux x86_64; rv:54.0) Gecko/20100101 Firefox/54.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_2 like Mac OS X) AppleWebKit/603.2.4 (KHTML, like Gecko) Mobile/14F89",
    "Mozilla/5.0 (compatible; ExampleBot/1.0; +https://bot.example.com/about)",
    "curl/7.54.0",
    "python-requests/2.18.1",
)

# Synthetic logs cover four days, in requestid order as a real server log would.
FIRST_DAY = datetime(2017, 7, 20)
LOGGED_SECONDS = 4 * 24 * 3600

CSV_COLUMNS = (
    "requestid",
    "host",
    "date",
    "hourofday",
    "timezone",
    "method",
    "url",
    "responsecode",
    "bytessent",
    "useragent",
)
NUMBER_COLUMNS = frozenset({"requestid", "hourofday", "responsecode", "bytessent"})


class LogLine(NamedTuple):
    """One request of the log, in the workshop CSV's column order, with numbers as int."""

    requestid: int
    host: str
    date: str
    hourofday: int
    timezone: str
    method: str
    url: str
    responsecode: int
    bytessent: int
    useragent: str


def gsi_1_pk(requestid: int, shards: int) -> str:
    """The write shard of a request: shard#1 .. shard#<shards>."""
    return f"shard#{(requestid % shards) + 1}"


def gsi_1_sk(responsecode: int, date: str, hourofday: int) -> str:
    """The GSI sort key: response code, then day, then two-digit hour, so begins_with narrows in that order."""
    return f"{responsecode}#{date}#{hourofday:02d}"


def log_item(line: LogLine, shards: int) -> dict:
    """One log line as an item in DynamoDB wire format, with its sharded GSI keys (no DynamoDB call)."""
    item = {column: _attribute_value(column, value) for column, value in zip(CSV_COLUMNS, line, strict=False)}
    item["GSI_1_PK"] = {"S": gsi_1_pk(line.requestid, shards)}
    item["GSI_1_SK"] = {"S": gsi_1_sk(line.responsecode, line.date, line.hourofday)}
    return item


def generate_items(size: int, seed: int, shards: int = 10) -> Iterator[dict]:
    """size synthetic log items, requestid 1..size, identical for identical arguments (no DynamoDB call)."""
    if size < 0:
        raise ValueError(f"size must be 0 or more, found {size}")
    _check_shards(shards)
    rng = random.Random(seed)
    for requestid in range(1, size + 1):
        yield log_item(_random_line(rng, requestid, size), shards)


def read_csv(path: str | PathLike, shards: int = 10, limit: int | None = None) -> Iterator[dict]:
    """Items from a workshop log CSV (no header, columns as CSV_COLUMNS), at most limit of them.

    Blank lines are skipped. Raises ValueError naming the file and line of a row with the wrong
    number of columns or a non-number in a number column. No DynamoDB call.
    """
    _check_shards(shards)
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be 0 or more, found {limit}")
    with open(path, newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        items_read = 0
        for row in reader:
            if limit is not None and items_read >= limit:
                return
            if not row:
                continue
            yield log_item(_parse_row(row, f"{path}, line {reader.line_num}"), shards)
            items_read += 1


def count_csv_rows(path: str | PathLike) -> int:
    """How many rows read_csv would read from path (quoted line breaks counted right), for progress bars."""
    with open(path, newline="", encoding="utf-8") as file:
        return sum(1 for row in csv.reader(file) if row)


def _random_line(rng: random.Random, requestid: int, size: int) -> LogLine:
    logged_at = FIRST_DAY + timedelta(seconds=(requestid - 1) * LOGGED_SECONDS // size)
    responsecode = _weighted_choice(rng, RESPONSE_CODE_COUNTS)
    return LogLine(
        requestid=requestid,
        host=rng.choice(HOSTS),
        date=logged_at.strftime("%Y-%m-%d"),
        hourofday=logged_at.hour,
        timezone=TIMEZONE,
        method=_weighted_choice(rng, METHOD_COUNTS),
        url=rng.choice(URL_TEMPLATES).format(item=rng.randint(*URL_ITEM_RANGE)),
        responsecode=responsecode,
        bytessent=rng.randint(*BYTES_SENT_RANGES[responsecode]),
        useragent=rng.choice(USER_AGENTS),
    )


def _weighted_choice(rng: random.Random, counts: dict):
    return rng.choices(tuple(counts), weights=tuple(counts.values()))[0]


def _parse_row(row: list[str], where: str) -> LogLine:
    if len(row) != len(CSV_COLUMNS):
        raise ValueError(f"{where}: expected {len(CSV_COLUMNS)} columns, found {len(row)}")
    return LogLine(*(_parse_field(column, text, where) for column, text in zip(CSV_COLUMNS, row, strict=False)))


def _parse_field(column: str, text: str, where: str) -> int | str:
    if column not in NUMBER_COLUMNS:
        return text
    # isascii: isdigit alone accepts digits such as "²" that int() refuses.
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{where}: expected a whole number for {column}, found {text!r}")
    return int(text)


def _attribute_value(column: str, value: int | str) -> dict:
    return {ATTRIBUTE_TYPES[column]: str(value)}


def _check_shards(shards: int) -> None:
    if shards < 1:
        raise ValueError(f"shards must be 1 or more, found {shards}")
