"""open-finops-spark: Spark costs into the Open FinOps Stack."""
from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).parent

setup(
    name="open-finops-spark",
    version="0.3.0",
    description="Open FinOps Stack: the FOCUS dataset built on Apache Spark",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author="Open FinOps Stack maintainers",
    license="MIT",
    license_files=["LICENSE"],
    url="https://github.com/open-finops/open-finops-stack",
    project_urls={
        "Source": "https://github.com/open-finops/open-finops-stack",
        "Issues": "https://github.com/open-finops/open-finops-stack/issues",
        "Changelog": "https://github.com/open-finops/open-finops-stack/blob/main/CHANGELOG.md",
    },
    packages=find_namespace_packages(
        include=["open_finops.spark", "open_finops.spark.*"]),
    # The local session's logging settings (open_finops.spark.session).
    package_data={"open_finops.spark": ["log4j2.properties"]},
    python_requires=">=3.10",
    install_requires=[
        "open-finops-core==0.3.0",
        "duckdb>=1.5,<2.1",
        "pyarrow>=16",
    ],
    # pyspark is not required here: a cluster (Databricks, EMR, Dataproc, Synapse, Fabric)
    # brings its own, and one from PyPI would shadow it. For a local Spark the README says
    # `pip install 'pyspark>=4.0,<5' 'pandas>=2.2,<3'` (Java 17 or 21; mapInArrow and
    # applyInArrow import pandas), and finops spark import says so when it is missing.
    entry_points={
        "open_finops.vendors": ["spark = open_finops.spark.plugin:PLUGIN"],
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Environment :: Console",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Office/Business :: Financial",
    ],
)
