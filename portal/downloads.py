"""CSV downloads from portal pages: spreadsheet-safe cells, CRLF lines, an attachment name."""

from __future__ import annotations

import csv
import io
from typing import Iterable

from flask import Response

from storage.csv_import import spreadsheet_safe


def csv_download(filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]) -> Response:
    """A CSV file the browser saves as `filename`; text cells cannot run as spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) if isinstance(cell, str) else cell for cell in row])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
