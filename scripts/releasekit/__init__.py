"""releasekit: the Python behind the release toolkit's shell verbs in scripts/.

Run as ``python -m releasekit COMMAND`` (scripts/lib.sh's ``releasekit`` function puts
scripts/ on PYTHONPATH). One module per concern:

=============  ===========================================================================
repo           the repository's facts: root, package list, version, names, atomic writes
ledger         dist/release-<version>.json: the built files, their sha256, upload records
dists          the one reader of wheels and sdists (metadata, names, entry points, RECORD)
sdist          reproducible sdists
builder        one distribution's sdist and wheel, every build hook in one process
checks         every check of ``make check`` in one process (twine, check-wheel-contents, policy)
versions       version sites, the next version, CHANGELOG.md
registry       every place that must know the vendors, checked against the package list
policy         our policy over the built metadata
closure        the third-party dependency closure (resolved by uv) and the upload layers
audit          the audit gate's decisions over pip-audit's output
index          simple pages, the index state of our files, the propagation barrier
upload         one distribution's upload in one process: its state, twine, the barrier
install        the install specs, a spec resolved and installed by uv, the checks of our files
observations   what the index served during one release run (the summary's only source)
summary        the summary at the end of a release run
credentials    whether twine will find credentials for an upload
scaffold       ``make new-vendor``
progress       progress lines for every wait
=============  ===========================================================================

Everything below ``__main__`` raises :class:`releasekit.errors.Failure` (or
:class:`~releasekit.errors.UsageError`); ``__main__`` is the one place that turns them into
one ``error:`` line and an exit code. The modules that the publish workflow runs with a bare
``python3`` (repo, ledger, index, observations, progress, and upload's barrier: it imports
twine only to upload) use the standard library only.
"""
