"""CSV reading and writing now live in core.csv_io (leads import too); kept here for customers' own imports."""

from core.csv_io import Columns, CsvTable, cell, csv_lines, map_header, read_csv, safe_cell, unescape_cell

__all__ = ["Columns", "CsvTable", "cell", "csv_lines", "map_header", "read_csv", "safe_cell", "unescape_cell"]
