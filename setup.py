"""Packaging for wiredesk; the same file installs the pipeline on Dataflow workers."""
from setuptools import find_packages, setup

# Keep apache-beam identical to the Flex Template image in deploy/ (same SDK on launcher and workers).
BEAM = "apache-beam[gcp]==2.77.0"

setup(
    name="wiredesk",
    version="0.1.0",
    description="Streaming news ingestion: feeds in, deduplicated and agency-tagged articles out.",
    python_requires=">=3.10,<3.13",
    packages=find_packages(include=["pipeline", "pipeline.*", "transforms", "transforms.*", "schemas", "schemas.*"]),
    package_data={
        "schemas": ["bigquery/*.json"],
        "transforms": ["tag/data/*.yaml"],
        "pipeline": ["demo_corpus/*", "demo_corpus/**/*", "queries/*.sql"],
    },
    include_package_data=True,
    install_requires=[
        BEAM,
        # Beam's own caps: numpy <2.5, pyarrow <26, protobuf <7.
        "numpy>=1.26,<2.5",
        "pyarrow>=14,<26",
        "protobuf>=4.25,<7",
        "feedparser==6.0.14",
        "trafilatura==2.3.1",
        # Imported directly (extraction, page signals, dates), not only through trafilatura.
        "lxml==6.1.3",
        "htmldate==1.11.0",
        "lxml_html_clean==0.4.6",
        "duckdb==2.0.0",
        "google-cloud-bigquery==3.47.0",
        "protego==0.7.0",
        "urllib3==2.8.0",
        "brotli==1.2.1",
        "tldextract==5.4.0",
        "PyYAML==6.0.4",
        "charset-normalizer==3.5.3",
    ],
    extras_require={
        "test": [
            "pytest==9.2.0",
            "pytest-timeout==2.4.0",
            # tests/fuzz: bounded-time fuzzing of the feed and page parsers (WIREDESK_FUZZ_SECONDS).
            "hypothesis==6.170.15",
        ],
        # Peer extractors for benchmarks/extraction.py and benchmarks/metadata.py (never runtime deps).
        "bench": [
            "newspaper4k==0.9.6",
            "news-please==1.6.16",
            "readability-lxml==0.9",
            "goose3==3.1.22",
            "pyinstrument==5.1.3",
        ],
    },
    entry_points={"console_scripts": ["wiredesk=pipeline.cli:main"]},
)
