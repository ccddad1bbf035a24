"""Plain-text tables for the terminal."""
from .results import SHOWN


def render(header, rows):
    widths = [max(len(str(row[i])) for row in [header, *rows])
              for i in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in
                       zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def results_table(exercises, results, checks):
    header = ["exercise", *checks]
    rows = [[exercise.name, *(SHOWN[results[exercise.name][c].status]
                              if c in results[exercise.name] else "-"
                              for c in checks)]
            for exercise in exercises]
    return render(header, rows)
