"""Reading a CSV file a practice exported (the cancer register, bookable sessions): UTF-8 with or
without Excel's byte-order mark, blank rows skipped, and every problem reported with its line."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import List, Sequence, Tuple

SAVE_AS_UTF8 = "save the export as 'CSV UTF-8' and try again"


class CsvFileError(ValueError):
    """The file cannot be read as CSV. `problems` are (line, problem) pairs; `note` says what to do."""

    def __init__(self, problems: List[Tuple[int, str]], note: str = "nothing was imported"):
        self.problems, self.note = problems, note
        super().__init__("; ".join(f"line {line}: {text}" for line, text in problems))


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CsvFileError([(1, "the file is UTF-16 text (it starts with a UTF-16 byte-order mark)")],
                           f"nothing was imported; {SAVE_AS_UTF8}")
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark: fine
    except UnicodeDecodeError:
        pass
    problems = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append((number, f"byte {exc.start + 1} of the line (0x{raw[exc.start]:02X}) is not UTF-8 text"))
    raise CsvFileError(problems, f"nothing was imported; the file is not UTF-8 text: {SAVE_AS_UTF8}")


def read_rows(path: Path, columns: Sequence[str]) -> Tuple[List[str], List[Tuple[int, List[str]]]]:
    """The header and the data rows, each with the line it starts on. Raises CsvFileError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CsvFileError([(1, f"cannot read the file: {exc.strerror or exc}")]) from None
    text = _decode(data)
    empty = CsvFileError([(1, f"the file is empty; it needs a header row: {','.join(columns)}")])
    if not text.strip():
        raise empty
    reader = csv.reader(io.StringIO(text, newline=""))
    header: List[str] | None = None
    rows: List[Tuple[int, List[str]]] = []
    last_line = 0
    try:
        for fields in reader:
            start, last_line = last_line + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if header is None:
                header = fields
            else:
                rows.append((start, fields))
    except csv.Error as exc:
        raise CsvFileError([(reader.line_num, f"not readable as CSV: {exc}")]) from None
    if header is None:
        raise empty
    return header, rows
