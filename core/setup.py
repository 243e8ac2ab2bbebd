"""open-finops-core: configuration and the `finops` command."""
from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).parent

setup(
    name="open-finops-core",
    version="0.3.0",
    description="Open FinOps Stack core: configuration and the finops command with vendor plugins",
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
    packages=find_namespace_packages(include=["open_finops.core", "open_finops.core.*"]),
    python_requires=">=3.10",
    install_requires=['tomli>=1.1; python_version < "3.11"'],
    # `finops report html` draws its charts with vl-convert (Vega-Lite to SVG, no browser).
    extras_require={"html": ["vl-convert-python>=1.6,<2"]},
    entry_points={"console_scripts": ["finops = open_finops.core.cli:main"]},
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Environment :: Console",
        "Intended Audience :: System Administrators",
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
