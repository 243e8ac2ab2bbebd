"""open-finops-azure: the plugin core discovers, and its --help."""
import argparse

from open_finops.azure import __version__
from open_finops.azure.plugin import PLUGIN

from conftest import VERSION


def test_azure_plugin_registers_finops_azure():
    parser = argparse.ArgumentParser(prog="finops azure")
    PLUGIN.register(parser)
    assert PLUGIN.name == "azure" and __version__ == VERSION
    assert "Azure" in parser.format_help()
