"""The examples of docs/user-checks.md, as a user would keep them in their own tests.

``test_my_fedbuff_normalise.py`` fails on purpose (its planted bug), so a run of pytest over the
repository's folders does not collect it; name it to run it.  ``tests/test_user_checks.py`` runs
both examples in a temporary directory, as docs/user-checks.md shows.
"""

collect_ignore = ["test_my_fedbuff_normalise.py"]
