"""Command line: explain one text, or a file of texts into JSON lines, or sum a file of
explained rows up into a dataset report.

    explain "The film was terrible." --model examples/minilm-rt-sentiment
    explain "..." --model org/name --target positive --json
    explain --input texts.csv --output out.jsonl --model org/name [--engine ray]
    explain report out.jsonl --output report.md

(``python -m explain`` is the same command.)

Exit status: 0 when everything was explained, 1 when anything failed (each failed row
has an error record in the output), 2 for a usage error, 130 when interrupted."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Optional

from ..corpus import batch
from ..corpus.explainers import explainers, job_options
from ..errors import ExplainError
from ..options import DEFAULT_TEMPLATE, Options

EPILOG = """examples:
  {prog} "The film was terrible." --model examples/minilm-rt-sentiment
  {prog} "Not bad at all." --model org/name --target positive --json
  {prog} "..." --model org/name --svg card.svg --html card.html --markdown card.md
  {prog} "A man is playing a guitar." --text-pair "A person plays music." --model org/nli-model
  {prog} "The match went to penalties." --candidate-labels "sports, politics, cooking" --model org/nli-model
  {prog} "Not bad at all." --model org/name --all-labels
  {prog} --input texts.csv --output out.jsonl --model org/name
      (run it again after an interruption: finished rows are skipped)
  {prog} --input texts.jsonl --output out.jsonl --model org/name --engine ray [--ray-address auto]
  {prog} report out.jsonl --output report.md      (what drives each label; {prog} report --help)"""


def program_name() -> str:
    """'explain' when run as the installed command, 'python -m explain' otherwise."""
    name = os.path.basename(sys.argv[0] or "")
    return "explain" if name in ("explain", "explain.exe") else "python -m explain"


def parser() -> argparse.ArgumentParser:
    prog = program_name()
    p = argparse.ArgumentParser(
        prog=prog,
        epilog=EPILOG.format(prog=prog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Signed word attributions (layer integrated gradients) for any Hugging Face text classifier.",
    )
    p.add_argument("text", nargs="?", help="the text to explain ('-' reads it from standard input)")
    p.add_argument("--model", "-m", required=True, help="Hub ID (org/name[@revision]) or local folder")
    p.add_argument("--target", help="label to explain (name or index; default: the predicted one)")
    p.add_argument("--contrast", help="explain target minus this label")
    p.add_argument("--baseline", default="auto", help="auto, mask, pad, unk or a token (default: auto)")
    p.add_argument(
        "--n-steps",
        "--steps",
        type=int,
        default=None,
        dest="n_steps",
        help="fixed number of integration steps (default: adaptive)",
    )
    p.add_argument(
        "--method",
        choices=("engine", "captum"),
        default="engine",
        help="engine (default: adaptive, or --n-steps) or captum (Captum's LayerIntegratedGradients, "
        "--n-steps nodes, default 50)",
    )
    p.add_argument(
        "--text-pair",
        help="a second text, given to the tokenizer as (TEXT, TEXT_PAIR): an NLI "
        "hypothesis, a reranker's passage; both are explained",
    )
    p.add_argument(
        "--candidate-labels",
        "--labels",
        dest="candidate_labels",
        help="zero-shot: comma-separated candidate labels (with an NLI model)",
    )
    p.add_argument(
        "--hypothesis-template",
        "--template",
        dest="hypothesis_template",
        default=DEFAULT_TEMPLATE,
        help=f"zero-shot hypothesis template, '{{}}' is the label (default: {DEFAULT_TEMPLATE!r})",
    )
    p.add_argument("--multi-label", action="store_true", help="zero-shot: score each label on its own")
    p.add_argument(
        "--all-labels",
        action="store_true",
        help="one text: explain every label (every candidate with --candidate-labels), most probable first",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text (auto: on a terminal, unless NO_COLOR is set)",
    )
    out = p.add_argument_group("static renderings for model cards (one text)")
    out.add_argument("--html", type=Path, help="write an HTML snippet with inline styles")
    out.add_argument("--svg", type=Path, help="write an SVG image")
    out.add_argument("--markdown", type=Path, help="write a Markdown block")
    many = p.add_argument_group("many texts")
    many.add_argument("--input", "-i", type=Path, help="a .txt (one text per line), .jsonl or .csv file")
    many.add_argument("--output", "-o", type=Path, help="JSON lines to write (default: INPUT.explained.jsonl)")
    many.add_argument("--format", choices=batch.TEXT_FORMATS, help="input format (default: by extension)")
    many.add_argument("--column", default="text", help="field/column holding the text (default: text)")
    many.add_argument(
        "--pair-column", default="text_pair", help="field/column holding an optional second text (default: text_pair)"
    )
    many.add_argument("--retry-failed", action="store_true", help="redo rows that failed in an earlier run")
    many.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="texts packed into shared passes (texts of similar length together; default 32)",
    )
    many.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on standard error with texts/s and time left (auto: on a terminal)",
    )
    many.add_argument(
        "--threads",
        type=int,
        help="torch CPU threads of this process (default: all CPUs), or, with "
        "--engine ray, the CPUs each replica takes and its threads "
        "(default 1)",
    )
    ray = p.add_argument_group("many texts on Ray Data (pip install -r requirements-ray.txt)")
    ray.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (default: this process, packed passes) or ray (Ray Data actors, one model each)",
    )
    ray.add_argument(
        "--ray-address", help="a running Ray cluster ('auto' on one of its nodes, or HOST:6379); default: start a local Ray"
    )
    ray.add_argument(
        "--workers",
        type=int,
        help="model replicas, each an actor that loads the model once "
        "(default: the cluster's GPUs, else its CPUs / --threads)",
    )
    ray.add_argument("--gpus-per-worker", type=float, help="GPUs per replica (default: 1 if the cluster has GPUs)")
    return p


def use_colour(choice: str, stream=sys.stdout) -> bool:
    """--color auto: only on a terminal, never with NO_COLOR set (no-color.org) or TERM=dumb."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


def is_report(argv: list) -> bool:
    """``report`` first means the report subcommand - unless a --model follows, which
    only explaining takes (so the one-word text "report" still works)."""
    return (
        bool(argv) and argv[0] == "report" and not any(a in ("--model", "-m") or a.startswith("--model=") for a in argv[1:])
    )


def main(argv: Optional[list] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if is_report(argv):
        from .report import main as report_main

        return report_main(argv[1:], prog=program_name())
    args = parser().parse_args(argv)
    if (args.text is None) == (args.input is None):
        parser().error("give either a TEXT or --input FILE")
    if args.engine == "ray" and args.input is None:
        parser().error("--engine ray explains files: give --input FILE")
    if args.threads is not None and args.threads < 1:
        parser().error("--threads must be at least 1")
    if args.input is not None and args.all_labels:
        parser().error("--all-labels explains one text; for a file, give each row its target")
    try:
        options(args).validate(text_pair=args.text_pair is not None)
    except ExplainError as exc:
        parser().error(str(exc))
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # keep the terminal for our own output
        if args.engine == "ray":
            return _many_ray(args)
        if args.threads is not None:
            from ..engine.device import configure_threads

            configure_threads(args.threads)
        from ..checkpoints import load_classifier

        clf = load_classifier(args.model)
        if args.input is not None:
            return _many(args, clf)
        return _one(args, clf)
    except ExplainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted" + (" - run the same command again to resume" if args.input else ""), file=sys.stderr)
        return 130


def options(args) -> Options:
    """The command line's options, by the names every surface uses."""
    return Options(
        target=args.target,
        contrast=args.contrast,
        baseline=args.baseline,
        n_steps=args.n_steps,
        method=args.method,
        candidate_labels=args.candidate_labels,
        hypothesis_template=args.hypothesis_template,
        multi_label=args.multi_label,
    )


def _options(args) -> dict:
    """The job's options, as recorded in every output line (the same for both engines)."""
    return job_options(args.model, options(args))


def _one(args, clf) -> int:
    from ..api import explain_labels
    from ..render import ansi, to_html, to_markdown, to_svg

    text = sys.stdin.read() if args.text == "-" else args.text
    if args.all_labels:
        every = explain_labels(text, clf, options=options(args).but(target=None, contrast=None), text_pair=args.text_pair)
        if args.json:
            print(json.dumps([e.to_dict() for e in every], ensure_ascii=False, indent=2))
        else:
            print("\n\n".join(ansi(e, colour=use_colour(args.color)) for e in every))
        return 0
    expl = explainers(clf, _options(args))[0](batch.Row(0, text, text_pair=args.text_pair), args.target)
    for path, render in ((args.html, to_html), (args.svg, to_svg), (args.markdown, to_markdown)):
        if path is not None:
            path.write_text(render(expl) + "\n", encoding="utf-8")
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(expl.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(ansi(expl, colour=use_colour(args.color)))
    return 0


def _many(args, clf) -> int:
    rows = batch.read_rows(args.input, args.format, args.column, args.pair_column)
    output = _output(args)
    one, many = explainers(clf, _options(args))
    summary = batch.run(
        rows,
        output,
        _options(args),
        one,
        retry_failed=args.retry_failed,
        progress=_progress(args),
        explain_batch=many,
        batch_size=args.batch_size,
    )
    return _summarise(summary, output)


def _output(args) -> Path:
    return args.output or args.input.with_name(args.input.stem + ".explained.jsonl")


def _progress(args) -> Optional[bool]:
    return {"auto": None, "always": True, "never": False}[args.progress]


def _many_ray(args) -> int:
    """--engine ray: the same job on Ray Data (the ray package is imported only here)."""
    from ..corpus.ray_engine import explain_file_ray

    output = _output(args)
    summary = explain_file_ray(
        args.input,
        output,
        args.model,
        fmt=args.format,
        column=args.column,
        pair_column=args.pair_column,
        batch_size=args.batch_size,
        retry_failed=args.retry_failed,
        progress=_progress(args),
        address=args.ray_address,
        workers=args.workers,
        cpus_per_worker=args.threads or 1,
        gpus_per_worker=args.gpus_per_worker,
        options=options(args),
    )
    return _summarise(summary, output)


def _summarise(summary, output) -> int:
    failed = summary.failed + summary.failed_before
    lines = [
        f"{summary.ok} explained, {failed} failed, {summary.done_before} already done before "
        f"({summary.total} rows) -> {output}"
    ]
    if failed:
        shown = ", ".join(map(str, summary.failed_rows[:20])) + (" ..." if len(summary.failed_rows) > 20 else "")
        lines.append(
            f"failed rows (0-based): {shown}; each has an error record with the reason (--retry-failed redoes them)"
        )
    print("\n".join(lines), file=sys.stderr)
    return 1 if failed else 0


def run() -> None:
    """The ``explain`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    run()
