"""open-finops: the meta-package. No code; extras pull in the vendor plugins."""
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent

setup(
    name="open-finops",
    version="0.3.0",
    description="Open FinOps Stack: FinOps on DuckDB, one install for the core and its plugins",
    long_description=(HERE / "README.pypi.md").read_text(encoding="utf-8"),
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
    packages=[],
    python_requires=">=3.10",
    install_requires=["open-finops-core==0.3.0"],
    extras_require={
        "core": ["open-finops-core==0.3.0"],
        "aws": ["open-finops-aws==0.3.0"],
        "docker": ["open-finops-docker==0.3.0"],
        "azure": ["open-finops-azure==0.3.0"],
        "gcp": ["open-finops-gcp==0.3.0"],
        "oci": ["open-finops-oci==0.3.0"],
        "spark": ["open-finops-spark==0.3.0"],
        "all": [
            "open-finops-aws==0.3.0",
            "open-finops-docker==0.3.0",
            "open-finops-azure==0.3.0",
            "open-finops-gcp==0.3.0",
            "open-finops-oci==0.3.0",
            "open-finops-spark==0.3.0",
        ],
    },
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
