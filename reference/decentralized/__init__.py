"""Decentralized asynchronous SGD (seeds 000 and 003).  Importing this package registers its algorithms.

==========================  ==================================================================
module                      what
==========================  ==================================================================
``common``                  learning-rate schedules, a node's keyed stochastic gradient, the
                            records every algorithm here writes (``model``, ``gradient``), Δ^cw
``general_algorithm``       seed 000, "General Algorithm": step, send, wait for >= M, average
``attiya_schiller``         seed 000, "Distributed SGD Algorithm": step, send, average enough
                            round-t models, MDAA, skip; checkpoints and recovery
``keuper_pfreundt``         seed 003, Algorithm 5 (ASGD): local mini-batch steps, states sent to
                            random recipients, external buffers, the Parzen window; and the silent
                            variant without communication
==========================  ==================================================================
"""
