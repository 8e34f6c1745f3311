"""Flex Template entry point: parameters in, the wiredesk job submitted to Dataflow.

Flex Templates pass every parameter as --name=value, booleans as --flag=true/false and one
string per parameter; this turns those into the command line wiredesk's options expect.
"""
from __future__ import annotations

import logging
import sys

BOOLEAN_FLAGS = {"allow_private_networks", "ignore_robots", "streaming"}


def normalise(argv: list) -> list:
    """--flag=true -> --flag, --flag=false -> dropped, --feeds=a,b -> --feeds a --feeds b."""
    out = []
    for arg in argv:
        name, eq, value = arg.partition("=")
        key = name.lstrip("-").replace("-", "_")
        if eq and key in BOOLEAN_FLAGS:
            if value.strip().lower() in ("true", "1", "yes"):
                out.append(f"--{key}")
            continue
        if eq and key == "feeds":
            out.extend(part for v in value.split(",") if v.strip() for part in ("--feeds", v.strip()))
            continue
        out.append(arg)
    return out


def main(argv: list | None = None):
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.builder import build_pipeline
    from pipeline.prepare import prepare

    options = PipelineOptions(normalise(list(sys.argv[1:] if argv is None else argv)), save_main_session=False)
    # The launcher prepares the warehouse and submits the job; the Flex Template service watches it.
    return build_pipeline(options, prepare(options)).run()


if __name__ == "__main__":
    logging.getLogger().setLevel(logging.INFO)
    main()
