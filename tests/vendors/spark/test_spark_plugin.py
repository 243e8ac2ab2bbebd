"""open-finops-spark: the plugin core discovers, and its --help."""
import argparse

from open_finops.spark import __version__
from open_finops.spark.plugin import PLUGIN

from conftest import VERSION


def test_spark_plugin_registers_finops_spark():
    parser = argparse.ArgumentParser(prog="finops spark")
    PLUGIN.register(parser)
    assert PLUGIN.name == "spark" and __version__ == VERSION
    assert "Spark" in parser.format_help()
