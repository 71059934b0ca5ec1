"""Guarantees and broken variants of reference/decentralized/ (seeds 000 and 003), one module beside each reference module.

=======================  ===========================================================================
module                   guarantees, each followed by the broken variant it must catch
=======================  ===========================================================================
``general_algorithm``    ``general-average``, ``general-majority``, ``general-nonconvex-split``,
                         ``general-external-convergence``
``attiya_schiller``      ``decentralized-skip``, ``decentralized-recovery``, ``decentralized-diameter``
``keuper_pfreundt``      ``asgd-parzen-window``, ``asgd-update``, ``asgd-recipients``, ``asgd-silent``
``common``               none: Monte Carlo over seeds of one schedule (the run's events replayed under
                         other seeds) and its Student-t intervals
=======================  ===========================================================================
"""
