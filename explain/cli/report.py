"""``explain report``: a file of explained rows -> what drives each label.

    explain report out.jsonl --output report.md
    explain report out.jsonl --output report.html --output chart.svg --output report.json
    explain report out.jsonl --json

Writes each ``--output`` in the format its extension names (.md, .html, .svg, .json);
with none, prints the Markdown (or, with ``--json``, the JSON) on standard output."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional

from ..corpus.report import dataset_report
from ..errors import ExplainError
from ..render.report import report_html, report_markdown, report_svg

WRITERS = {
    ".md": report_markdown,
    ".markdown": report_markdown,
    ".html": report_html,
    ".htm": report_html,
    ".svg": report_svg,
    ".json": lambda r: r.to_json(indent=1),
}


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"{prog} report",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Sum a file of explained rows (the JSON lines of `--input ... --output "
        "OUT.jsonl`, or Parquet from --engine ray) up per label: the words that "
        "push toward and against it, with intervals and contexts, words that "
        "flip sign, and how much attribution lands on special tokens, "
        "punctuation and names.",
        epilog=f"examples:\n  {prog} report out.jsonl --output report.md\n"
        f"  {prog} report out.jsonl -o report.html -o chart.svg -o report.json\n"
        f"  {prog} report out.jsonl --json --top 20 --min-texts 10",
    )
    p.add_argument("results", type=Path, help="the batch output: JSON lines, or a Parquet file or folder")
    p.add_argument(
        "--output",
        "-o",
        type=Path,
        action="append",
        default=[],
        help="write the report here, by extension: .md, .html (static, inline SVG), .svg (chart), .json; repeatable",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON on standard output")
    p.add_argument("--top", type=int, default=10, help="words per list (default 10)")
    p.add_argument(
        "--min-texts", type=int, default=5, help="rank only words in at least this many texts of a label (default 5)"
    )
    p.add_argument("--bootstrap", type=int, default=1000, help="resamples behind each interval (default 1000; 0: none)")
    p.add_argument("--confidence", type=float, default=0.95, help="interval coverage (default 0.95)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--label", action="append", help="only this label (repeatable; default: every label explained)")
    return p


def main(argv: Optional[list] = None, prog: str = "explain") -> int:
    """The report subcommand (``prog``: the command's name, for --help)."""
    args = parser(prog).parse_args(argv)
    bad = [str(path) for path in args.output if path.suffix.lower() not in WRITERS]
    if bad:
        parser(prog).error(f"cannot tell the format of {', '.join(bad)}: name it .md, .html, .svg or .json")
    try:
        report = dataset_report(
            args.results,
            top_k=args.top,
            min_texts=args.min_texts,
            bootstrap=args.bootstrap,
            confidence=args.confidence,
            seed=args.seed,
            labels=args.label,
        )
    except ExplainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"error: {args.results.name} could not be summed up ({type(exc).__name__}).", file=sys.stderr)
        return 1
    for path in args.output:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(WRITERS[path.suffix.lower()](report) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"error: {path} cannot be written ({exc.strerror or type(exc).__name__}).", file=sys.stderr)
            return 1
        print(f"wrote {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    elif not args.output:
        print(report_markdown(report))
    if not report.explained:
        print(f"error: {args.results} holds no explained row ({report.failed} failed).", file=sys.stderr)
        return 1
    return 0
