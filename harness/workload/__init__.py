"""Locust Users (one timing path) and the tasks built from a scenario's mix.

May import ops, datasets, scenario and the shared leaves; never run, target or the gate.
"""
