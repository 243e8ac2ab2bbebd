"""open-finops-oci: the plugin core discovers, and its --help."""
import argparse

from open_finops.oci import __version__
from open_finops.oci.plugin import PLUGIN

from conftest import VERSION


def test_oci_plugin_registers_finops_oci():
    parser = argparse.ArgumentParser(prog="finops oci")
    PLUGIN.register(parser)
    assert PLUGIN.name == "oci" and __version__ == VERSION
    assert "OCI" in parser.format_help()
