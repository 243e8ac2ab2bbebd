"""open-finops-gcp: the plugin core discovers, and its --help."""
import argparse

from open_finops.gcp import __version__
from open_finops.gcp.plugin import PLUGIN

from conftest import VERSION


def test_gcp_plugin_registers_finops_gcp():
    parser = argparse.ArgumentParser(prog="finops gcp")
    PLUGIN.register(parser)
    assert PLUGIN.name == "gcp" and __version__ == VERSION
    assert "GCP" in parser.format_help()
