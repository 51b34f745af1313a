"""Simulated sensor parts for the Unix port, answering at the byte level.

make_sim_hal(config, clock, truth) builds the `sim` board's HAL with its fitted parts.
"""
